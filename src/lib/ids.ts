const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID (any case): every id in a URL is checked with it before it reaches SQL. */
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);
