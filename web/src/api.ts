// Same-origin calls to the admin API and the console session API, with the session cookie and,
// on writes, the CSRF double-submit header.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export const csrfToken = () => readCookie('__Host-idpb_csrf') ?? readCookie('idpb_csrf') ?? '';

let onUnauthorized: (() => void) | undefined;
export const setUnauthorizedHandler = (fn: () => void) => { onUnauthorized = fn; };

const WORDS: Record<number, string> = {
  400: 'The request was not accepted',
  401: 'Your session has ended; sign in again',
  403: 'You are not allowed to do this',
  404: 'Not found: it may have been deleted',
  409: 'This conflicts with something that already exists',
  413: 'The request is too large',
  429: 'Too many requests; wait a moment and try again',
  500: 'The server failed to handle this request',
  503: 'The server is unavailable right now; try again shortly',
};

/** Turns AJV messages like "body/name must NOT have fewer than 1 characters" into plain words. */
function humanize(message: string): string {
  return message
    .replace(/^(body|querystring|params)\/?/, '')
    .replace(/^\//, '')
    .replace(/must NOT have fewer than (\d+) characters/, 'must have at least $1 characters')
    .replace(/must NOT have more than (\d+) characters/, 'must have at most $1 characters')
    .replace(/must match format "uuid"/, 'must be a valid id')
    .replace(/must match format "date-time"/, 'must be a date and time')
    .replace(/must match pattern "\^https\?:\/\/"/, 'must start with https:// or http://');
}

export async function api<T = unknown>(method: string, path: string, body?: unknown, init?: { signal?: AbortSignal }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken();
  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body), signal: init?.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'ERR_NETWORK', 'Could not reach the idpbridge server. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const j = (json ?? {}) as { message?: string; code?: string; detail?: string };
    const message = j.message ? humanize(j.message) : j.detail ?? WORDS[res.status] ?? `The server answered ${res.status}`;
    if (res.status === 401 && !path.startsWith('/console/api/session')) onUnauthorized?.();
    throw new ApiError(res.status, j.code ?? `HTTP_${res.status}`, message);
  }
  return json as T;
}

export const get = <T,>(path: string, signal?: AbortSignal) => api<T>('GET', path, undefined, { signal });
export const post = <T,>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T,>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T,>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = (path: string) => api<void>('DELETE', path);

export const qs = (params: Record<string, string | number | undefined | null | false>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && v !== false) u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

export const tenantPath = (tenantId: string, rest = '') => `/admin/v1/tenants/${encodeURIComponent(tenantId)}${rest}`;

// ---- types (the admin API's JSON) ----

export interface Principal {
  kind: 'operator' | 'tenant_admin';
  tenantId?: string;
  tenantName?: string | null;
  login?: string;
  /** Opened through a set-up link (no password account). */
  setupLink?: boolean;
}

export interface Tenant { id: string; name: string; scimBaseUrl: string; createdAt: string }

export interface ScimToken {
  id: string; name: string; tokenHint: string; createdAt: string; expiresAt: string | null; revokedAt: string | null;
  lastUsedAt: string | null; status: 'active' | 'expired' | 'revoked'; token?: string;
}

export interface DirectoryUser {
  id: string; userName: string; displayName: string | null; externalId: string | null; email: string | null;
  active: boolean; status: string; source: 'scim' | 'manual'; readOnly: boolean; createdAt: string; updatedAt: string;
}

export interface DirectoryGroup {
  id: string; displayName: string; externalId: string | null; memberCount: number;
  linkedAccessGroup: { id: string; name: string } | null; createdAt: string; updatedAt: string;
}

export interface AccessGroup {
  id: string; name: string; description: string | null;
  linkedGroup: { id: string; displayName: string; externalId: string | null } | null; createdAt: string; updatedAt: string;
}

export interface Dataset { id: string; name: string; externalId: string | null; description: string | null; createdAt: string; updatedAt: string }

export interface Member {
  id: string; userName: string; displayName: string | null; status: string; source: string; active: boolean;
  viaIdpGroup: boolean; manual: boolean;
}

export interface Webhook {
  id: string; url: string; description: string | null; events: string[]; enabled: boolean; secretHint: string;
  createdAt: string; updatedAt: string; blockedUntil: string | null; pending: number; dead: number; secret?: string;
}

export interface Delivery {
  webhookId: string; eventId: string; eventType: string; sequence: number; state: 'pending' | 'delivered' | 'dead';
  attempts: number; nextAttemptAt: string | null; lastAttemptAt: string | null; lastStatus: number | null; lastError: string | null;
  deliveredAt: string | null; deadAt: string | null; createdAt: string;
}

export interface LogEntry {
  id: string; at: string; method: string; path: string; idp: string; userAgent: string | null; credentialId: string | null;
  operation: string; outcome: 'success' | 'failure' | 'error'; status: number; resourceType: string | null; resourceId: string | null;
  summary: Record<string, unknown> | null; error: Record<string, unknown> | null; durationMs: number | null;
}

export interface ConsoleAccount { id: string; login: string; displayName: string | null; disabled: boolean; lastLoginAt: string | null; createdAt: string }

export interface Connection {
  id: string; type: 'oidc' | 'saml'; name: string; domains: string[]; createdAt: string; updatedAt: string;
  oidc?: { configUrl: string; callbackUrl: string; loginUrl: string };
  saml?: {
    spEntityId: string; acsUrl: string; metadataUrl: string; loginUrl: string; idpEntityId: string | null; idpSsoUrl: string | null;
    idpCertificates: number; idpMetadataUrl: string | null; allowIdpInitiated: boolean; jitProvisioning: boolean; clockSkewSeconds: number; ready: boolean;
  };
}
