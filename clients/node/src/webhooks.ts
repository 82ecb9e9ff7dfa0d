import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'idpbridge-signature';

/**
 * Verifies an idpbridge webhook (docs/webhooks.md): header `idpbridge-signature: t=<unix>,v1=<hex>`
 * where hex = HMAC-SHA256(secret, `${t}.${rawBody}`). Several v1 values are accepted (secret
 * rotation); timestamps further than toleranceSeconds from now are refused (replay). Pass the raw
 * body exactly as received, before any JSON parsing.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | null | undefined,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (!header) return false;
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d+$/.test(v)) t = Number(v);
    else if (k === 'v1' && v) sigs.push(v);
  }
  if (t === undefined || sigs.length === 0) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'), 'utf8');
  return sigs.some((s) => {
    const got = Buffer.from(s, 'utf8');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
