import type { Dispatcher } from 'undici';
import { request } from '../lib/lazy-undici.js';
import { createOutboundAgent, TargetPolicy } from '../lib/outbound.js';
import { ApiError } from '../http/errors.js';

/** Why a discovery or JWKS fetch failed, precisely enough to tell an IT admin what to fix. */
export type FetchFailure =
  | 'invalid_url'
  | 'insecure_url'
  | 'network'
  | 'http_status'
  | 'redirect'
  | 'too_large'
  | 'not_json';

/** An IdP document could not be fetched (as an HTTP answer: the IdP is unavailable, 503). */
export class FetchJsonError extends ApiError {
  constructor(
    readonly kind: FetchFailure,
    message: string,
    readonly status?: number,
  ) {
    super('ERR_IDP_UNAVAILABLE', message, { 'retry-after': '5' });
  }
}

export interface FetchOptions {
  timeoutMs?: number;
  maxBytes?: number;
  /**
   * The outbound agent (src/lib/outbound.ts) with the operator's allow list; IdpTokens.fromConfig
   * passes it. Default: the same guard with no exception (no loopback, private or metadata address).
   */
  dispatcher?: Dispatcher;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_FETCH_MAX_BYTES = 512 * 1024;

/** An agent for IdP fetches: the SSRF guard, bounded connect/header/body time, few sockets per origin. */
export function idpAgent(targets: TargetPolicy): Dispatcher {
  return createOutboundAgent(targets, {
    connectTimeoutMs: DEFAULT_FETCH_TIMEOUT_MS,
    headersTimeout: DEFAULT_FETCH_TIMEOUT_MS,
    bodyTimeout: DEFAULT_FETCH_TIMEOUT_MS,
    connections: 8,
    keepAliveTimeout: 30_000,
  });
}

let defaultAgent: Dispatcher | undefined;
const guardedDefault = () => (defaultAgent ??= idpAgent(new TargetPolicy()));

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * https only, except plain http to a loopback host (local IdPs, tests).
 * Returns a parsed URL or throws FetchJsonError('invalid_url' | 'insecure_url').
 */
export function checkIdpUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchJsonError('invalid_url', `${what} "${raw}" is not a valid absolute URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return url;
  if (url.protocol === 'http:') throw new FetchJsonError('insecure_url', `${what} must use https (plain http is accepted for loopback hosts only): ${raw}`);
  throw new FetchJsonError('invalid_url', `${what} must be an https URL, got ${url.protocol}`);
}

/** GET a JSON document with a timeout and a size limit; never follows redirects. */
export async function fetchJson(rawUrl: string, what: string, opts: FetchOptions = {}): Promise<unknown> {
  const url = checkIdpUrl(rawUrl, what);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'GET',
      dispatcher: opts.dispatcher ?? guardedDefault(),
      signal,
      headers: { accept: 'application/json, application/jwk-set+json', 'user-agent': 'idpbridge' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch {
    throw networkError(what, url, timeoutMs);
  }
  const { statusCode, headers, body } = res;
  if (statusCode >= 300 && statusCode < 400) {
    body.resume();
    throw new FetchJsonError('redirect', `${what} ${url.href} answered ${statusCode} redirect to ${String(headers.location ?? '?')}; enter the final URL`, statusCode);
  }
  if (statusCode !== 200) {
    body.resume();
    throw new FetchJsonError('http_status', `${what} ${url.href} answered HTTP ${statusCode}, expected 200`, statusCode);
  }
  const declared = Number(headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    throw new FetchJsonError('too_large', `${what} ${url.href} is ${declared} bytes, more than the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        body.destroy();
        throw new FetchJsonError('too_large', `${what} ${url.href} is larger than the ${maxBytes}-byte limit`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof FetchJsonError) throw err;
    throw networkError(what, url, timeoutMs);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new FetchJsonError('not_json', `${what} ${url.href} did not return JSON (content-type ${String(headers['content-type'] ?? 'none')})`);
  }
}

/**
 * One answer for every way of not getting a response — refused, reset, no such host, timed out,
 * or an address the outbound guard refuses — so the OIDC test cannot be used as a port scanner
 * (an open port that does not speak HTTP and a closed one look the same).
 */
function networkError(what: string, url: URL, timeoutMs: number): FetchJsonError {
  return new FetchJsonError('network', `${what} ${url.href} could not be reached: no HTTP answer within ${timeoutMs} ms (the host is unknown, refuses, does not answer, or is an address outbound requests may not reach)`);
}
