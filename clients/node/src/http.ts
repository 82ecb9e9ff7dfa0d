/** What every call needs: where idpbridge is, and (optionally) a fetch to use instead of the global one. */
export interface ConnectionOptions {
  /** idpbridge's base URL, e.g. https://idpbridge.example.com (no trailing /admin/v1 or /v1). */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Per-request timeout (ms); default 10 s. */
  timeoutMs?: number;
}

/** A non-2xx answer from idpbridge: the HTTP status and its error body (`{ statusCode, code, error, message }`). */
export class IdpbridgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'IdpbridgeError';
  }
}

export interface CallOptions {
  method: string;
  path: string;
  bearer?: string | undefined;
  query?: Record<string, unknown> | undefined;
  body?: unknown;
}

export async function call<T>(conn: ConnectionOptions, o: CallOptions): Promise<T> {
  const url = new URL(conn.baseUrl.replace(/\/+$/, '') + o.path);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await (conn.fetch ?? fetch)(url, {
    method: o.method.toUpperCase(),
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    signal: AbortSignal.timeout(conn.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const b = parsed as { code?: string; message?: string } | undefined;
    throw new IdpbridgeError(res.status, b?.code, `${o.method.toUpperCase()} ${o.path} → ${res.status}${b?.message ? `: ${b.message}` : ''}`, parsed);
  }
  return parsed as T;
}
