/**
 * Which redirect URIs the broker registers and which requested URI matches a registered one: the
 * one rule every registration (admin API) and every sign-in start (OIDC, password, SAML, domain
 * routing) uses. Web apps: https, compared exactly. Native apps (RFC 8252): a private-use scheme
 * (`msauth.com.example.app://auth`, `myapp://callback`), compared exactly, and the loopback IP
 * literals `http://127.0.0.1` and `http://[::1]`, whose port is ignored (§7.3: the app listens on
 * whatever port the OS gives it). Nothing else is loosened, so no URI opens a redirect.
 */

/** Loopback hosts over plain http; only the IP literals match on any port (RFC 8252 §7.3, §8.3). */
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);
const PLAIN_HTTP_HOSTS = new Set([...LOOPBACK_IPS, 'localhost']);

/** RFC 3986 §3.1 scheme syntax (the URL parser lower-cases it). */
const SCHEME_RE = /^[a-z][a-z0-9+.-]*$/;

/**
 * Schemes a browser or OS runs, reads locally or hands to another handler: never a place to send a
 * token (javascript:/data: run script, file: reads the disk, the rest are browser-internal).
 */
const REFUSED_SCHEMES = new Set([
  'javascript', 'vbscript', 'data', 'file', 'blob', 'filesystem', 'about', 'view-source', 'chrome', 'chrome-extension',
  'moz-extension', 'edge', 'ws', 'wss', 'ftp', 'mailto', 'tel', 'sms', 'intent', 'jar',
]);

export type RedirectUriKind = 'web' | 'loopback' | 'native';

/** The URI parsed with its kind, or the reason it cannot be registered. */
export function classifyRedirectUri(uri: string): { kind: RedirectUriKind; url: URL } | { problem: string } {
  // Checked on the raw text: the parser drops an empty fragment ("…/cb#") and hides control characters.
  if (uri.includes('#')) return { problem: 'redirect URIs may not contain a fragment (#…)' };
  if (/[\s\u0000-\u001f\u007f\\]/.test(uri)) return { problem: 'redirect URIs may not contain spaces, control characters or backslashes' };
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { problem: `"${uri}" is not an absolute URL` };
  }
  if (url.username || url.password) return { problem: 'redirect URIs may not contain credentials' };
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return url.hostname ? { kind: 'web', url } : { problem: 'an https redirect URI needs a host' };
  if (scheme === 'http') {
    if (!PLAIN_HTTP_HOSTS.has(url.hostname)) return { problem: 'redirect URIs must use https (plain http only for 127.0.0.1, [::1] and localhost)' };
    return { kind: LOOPBACK_IPS.has(url.hostname) ? 'loopback' : 'web', url };
  }
  if (!SCHEME_RE.test(scheme) || REFUSED_SCHEMES.has(scheme)) {
    return { problem: `the ${scheme}: scheme cannot be a redirect URI (https, http on a loopback address, or a native app's own scheme such as com.example.app://callback)` };
  }
  return { kind: 'native', url };
}

/** Why this URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  const c = classifyRedirectUri(uri);
  return 'problem' in c ? c.problem : undefined;
}

/**
 * Whether a requested redirect_uri matches a registered one: exactly, or, for a registered loopback
 * IP URI, the same URI with any port (scheme, host, path and query unchanged, byte for byte).
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const reg = classifyRedirectUri(registered);
  if ('problem' in reg || reg.kind !== 'loopback') return false;
  const req = classifyRedirectUri(requested);
  if ('problem' in req || req.kind !== 'loopback') return false;
  // The registered URI with the requested port must spell the requested URI exactly.
  const candidate = new URL(reg.url.href);
  candidate.port = req.url.port;
  return candidate.href === requested;
}

/** A registered-URI prefix worth loading for a requested URI that did not match exactly (loopback only). */
export function loopbackPrefix(requested: string): string | undefined {
  const c = classifyRedirectUri(requested);
  return 'problem' in c || c.kind !== 'loopback' ? undefined : `http://${c.url.hostname}`;
}
