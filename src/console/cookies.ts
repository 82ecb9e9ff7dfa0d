import type { FastifyReply, FastifyRequest } from 'fastify';

/** Plain-HTTP requests to a loopback host (local development): the only place cookies may lack `Secure`. */
export function isLocalPlainHttp(req: FastifyRequest): boolean {
  if (req.protocol !== 'http') return false;
  const host = (req.host ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]' || name.endsWith('.localhost');
}

/** Cookie names: `__Host-` (Secure, host-only, path /) everywhere except plain-HTTP localhost. */
export function cookieNames(req: FastifyRequest): { session: string; csrf: string; secure: boolean } {
  const secure = !isLocalPlainHttp(req);
  return secure
    ? { session: '__Host-idpb_session', csrf: '__Host-idpb_csrf', secure }
    : { session: 'idpb_session', csrf: 'idpb_csrf', secure };
}

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

interface CookieOpts {
  httpOnly: boolean;
  secure: boolean;
  maxAgeSeconds: number;
}

function serialize(name: string, value: string, o: CookieOpts): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${o.maxAgeSeconds}`, 'SameSite=Strict'];
  if (o.httpOnly) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Session cookie (HttpOnly) and the CSRF double-submit cookie (readable by the console's script). */
export function setSessionCookies(req: FastifyRequest, reply: FastifyReply, token: string, csrf: string, maxAgeSeconds: number): void {
  const n = cookieNames(req);
  reply.header('set-cookie', [
    serialize(n.session, token, { httpOnly: true, secure: n.secure, maxAgeSeconds }),
    serialize(n.csrf, csrf, { httpOnly: false, secure: n.secure, maxAgeSeconds }),
  ]);
}

export function clearSessionCookies(req: FastifyRequest, reply: FastifyReply): void {
  const n = cookieNames(req);
  reply.header('set-cookie', [
    serialize(n.session, '', { httpOnly: true, secure: n.secure, maxAgeSeconds: 0 }),
    serialize(n.csrf, '', { httpOnly: false, secure: n.secure, maxAgeSeconds: 0 }),
  ]);
}
