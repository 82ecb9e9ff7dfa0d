/**
 * Provisioning health at a glance: the provisioning log aggregated over a time window, for one
 * tenant or across tenants. Every query reads an index range — (tenant_id, at) for the window,
 * (tenant_id, idp, at) for the last request of each IdP — so its cost follows the rows in the
 * window and the number of tenants, never the size of the whole log.
 */
import type { Queryable } from '../db/types.js';

/** The window the health is computed over: `to` exclusive, buckets aligned to multiples of bucketSeconds. */
export interface HealthWindow {
  from: Date;
  to: Date;
  bucketSeconds: number;
}

export interface HealthBucket { at: Date; requests: number; failures: number; errors: number }
export interface HealthTotals { requests: number; failures: number; errors: number }

export interface HealthCause {
  status: number;
  /** The catalogued error code the request failed with (ERR_SCIM_…), or null when none was recorded. */
  code: string | null;
  scimType: string | null;
  count: number;
  lastAt: Date;
  /** The most recent failure's detail (already redacted when it was logged). */
  example: string | null;
  fix: string;
}

export interface IdpLast {
  idp: string;
  lastAt: Date;
  lastUserAgent: string | null;
  lastMethod: string;
  /** What the request did (list, read, create, patch…) and on what: never its path, which may name other ids. */
  lastOperation: string;
  lastResourceType: string | null;
  lastStatus: number;
  lastOutcome: string;
  /** Requests of this IdP inside the window. */
  requests: number;
  failures: number;
}

export interface TenantHealth extends HealthWindow {
  totals: HealthTotals;
  buckets: HealthBucket[];
  causes: HealthCause[];
  idps: IdpLast[];
}

const BUCKETS = [300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400];
const MAX_BUCKETS = 48;

/** The last `hours` up to now, cut into at most 48 aligned buckets (the last one is the current, partial one). */
export function healthWindow(hours: number, now = new Date()): HealthWindow {
  const span = hours * 3600;
  const bucketSeconds = BUCKETS.find((b) => span / b <= MAX_BUCKETS) ?? BUCKETS[BUCKETS.length - 1]!;
  const end = Math.floor(now.getTime() / 1000 / bucketSeconds) * bucketSeconds + bucketSeconds;
  const count = Math.ceil(span / bucketSeconds);
  return { from: new Date((end - count * bucketSeconds) * 1000), to: new Date(end * 1000), bucketSeconds };
}

/** The fix for a cause of failure, in the words of the guides' "If provisioning fails". */
export function fixHint(status: number, code: string | null): string {
  switch (code) {
    case 'ERR_SCIM_UNAUTHORIZED':
      return 'The IdP\'s secret token is wrong, revoked or expired. Paste the token alone (no "Bearer " in front), or generate a new one on the IdP integration page.';
    case 'ERR_SCIM_UNIQUENESS':
      return 'A user or group with this userName / displayName already exists (case-insensitively). Check the userName mapping (Entra: userPrincipalName; Okta: userName) or remove the duplicate.';
    case 'ERR_SCIM_INVALID_VALUE':
      return 'The IdP sent a value idpbridge does not accept: compare the error with the attribute mappings in the guide and with the userType and roles allow-lists in Provisioning settings.';
    case 'ERR_SCIM_INVALID_FILTER':
      return 'The IdP sent a filter idpbridge cannot use: check the matching attribute in the IdP\'s attribute mappings (userName / externalId for users, displayName for groups).';
    case 'ERR_SCIM_INVALID_PATH':
    case 'ERR_SCIM_NO_TARGET':
    case 'ERR_SCIM_MUTABILITY':
      return 'A PATCH named an attribute idpbridge does not have or may not change: check the attribute mappings (custom extension attributes must be registered in Provisioning settings).';
    case 'ERR_SCIM_INVALID_SYNTAX':
      return 'The request body was not valid SCIM JSON: check custom attribute expressions in the IdP\'s mappings.';
    case 'ERR_SCIM_TOO_MANY':
      return 'A read ran longer than the database statement limit: narrow the filter, or raise IDPBRIDGE_STATEMENT_TIMEOUT_MS.';
    case 'ERR_SCIM_PAYLOAD_TOO_LARGE':
      return 'The request was larger than idpbridge accepts: lower the IdP\'s batch size (Bulk maxOperations) or the number of members per request.';
    case 'ERR_SCIM_PRECONDITION_FAILED':
      return 'The resource changed since the IdP read it (If-Match): the IdP re-reads and retries by itself.';
    default:
      break;
  }
  if (status === 401) return fixHint(401, 'ERR_SCIM_UNAUTHORIZED');
  if (status === 404) return 'The IdP asked for a user or group idpbridge does not have, or the SCIM URL is wrong: copy the SCIM base URL from the IdP integration page exactly; a missing resource is created again at the next full sync.';
  if (status === 409) return fixHint(409, 'ERR_SCIM_UNIQUENESS');
  if (status === 429) return 'idpbridge throttled the IdP (rate limit): the IdP retries by itself; raise IDPBRIDGE_RATE_LIMIT_PER_MINUTE if it persists.';
  if (status === 503) return 'The database was unavailable or slow: the IdP retries by itself; check the database and the server log.';
  if (status >= 500) return 'idpbridge failed to handle the request: the IdP retries by itself; if it keeps failing, send the server log lines with this time to your provider.';
  return 'The IdP sent something idpbridge does not accept: read the error and compare it with the attribute mappings in the guide.';
}

interface BucketRow { b: number; requests: number; failures: number; errors: number }

/** Fills the window's buckets in order, zero where nothing happened. */
function fillBuckets(w: HealthWindow, rows: BucketRow[]): HealthBucket[] {
  const byIndex = new Map(rows.map((r) => [Number(r.b), r]));
  const first = w.from.getTime() / 1000 / w.bucketSeconds;
  const n = Math.round((w.to.getTime() - w.from.getTime()) / 1000 / w.bucketSeconds);
  return Array.from({ length: n }, (_, i) => {
    const r = byIndex.get(first + i);
    return { at: new Date((first + i) * w.bucketSeconds * 1000), requests: r?.requests ?? 0, failures: r?.failures ?? 0, errors: r?.errors ?? 0 };
  });
}

const sumTotals = (buckets: HealthBucket[]): HealthTotals => buckets.reduce(
  (t, b) => ({ requests: t.requests + b.requests, failures: t.failures + b.failures, errors: t.errors + b.errors }),
  { requests: 0, failures: 0, errors: 0 },
);

const BUCKET_COLUMNS = `floor(extract(epoch FROM l.at) / $4)::int AS b, count(*)::int AS requests,
       (count(*) FILTER (WHERE l.outcome = 'failure'))::int AS failures,
       (count(*) FILTER (WHERE l.outcome = 'error'))::int AS errors`;

interface CauseRow { status: number; code: string | null; scim_type: string | null; count: number; last_at: Date; example: string | null }

const toCause = (r: CauseRow): HealthCause => ({
  status: r.status, code: r.code, scimType: r.scim_type, count: r.count, lastAt: r.last_at, example: r.example, fix: fixHint(r.status, r.code),
});

/** One tenant's health over the window. */
export async function tenantHealth(db: Queryable, tenantId: string, w: HealthWindow): Promise<TenantHealth> {
  const range = [tenantId, w.from, w.to];
  const perIdp = await db.query<BucketRow & { idp: string }>(
    `SELECT l.idp, ${BUCKET_COLUMNS}
       FROM provisioning_log l WHERE l.tenant_id = $1 AND l.at >= $2 AND l.at < $3 GROUP BY l.idp, 2`,
    [...range, w.bucketSeconds],
  );
  const causes = await db.query<CauseRow>(
    `SELECT g.status, g.code, g.scim_type, g.count, g.last_at, x.example
       FROM (SELECT l.status, l.error->>'code' AS code, l.error->>'scimType' AS scim_type, count(*)::int AS count, max(l.at) AS last_at
               FROM provisioning_log l WHERE l.tenant_id = $1 AND l.at >= $2 AND l.at < $3 AND l.outcome <> 'success'
              GROUP BY 1, 2, 3 ORDER BY 4 DESC, 5 DESC LIMIT 20) g
       LEFT JOIN LATERAL (
         SELECT l.error->>'detail' AS example FROM provisioning_log l
          WHERE l.tenant_id = $1 AND l.at >= $2 AND l.at <= g.last_at AND l.status = g.status
            AND (l.error->>'code') IS NOT DISTINCT FROM g.code AND (l.error->>'scimType') IS NOT DISTINCT FROM g.scim_type
          ORDER BY l.at DESC, l.id DESC LIMIT 1) x ON true
      ORDER BY g.count DESC, g.last_at DESC`,
    range,
  );
  // The distinct IdPs by a loose index scan (one probe each), then each one's newest request.
  const last = await db.query<{
    idp: string; at: Date; user_agent: string | null; method: string; operation: string; resource_type: string | null; status: number; outcome: string;
  }>(
    `WITH RECURSIVE k(idp) AS (
       (SELECT l.idp FROM provisioning_log l WHERE l.tenant_id = $1 ORDER BY l.idp LIMIT 1)
       UNION ALL
       SELECT (SELECT l.idp FROM provisioning_log l WHERE l.tenant_id = $1 AND l.idp > k.idp ORDER BY l.idp LIMIT 1)
         FROM k WHERE k.idp IS NOT NULL)
     SELECT k.idp, x.at, x.user_agent, x.method, x.operation, x.resource_type, x.status, x.outcome
       FROM k CROSS JOIN LATERAL (
         SELECT l.at, l.user_agent, l.method, l.operation, l.resource_type, l.status, l.outcome FROM provisioning_log l
          WHERE l.tenant_id = $1 AND l.idp = k.idp ORDER BY l.at DESC LIMIT 1) x
      WHERE k.idp IS NOT NULL
      ORDER BY x.at DESC`,
    [tenantId],
  );
  const merged = new Map<number, BucketRow>();
  const byIdp = new Map<string, { requests: number; failures: number }>();
  for (const r of perIdp.rows) {
    const m = merged.get(Number(r.b)) ?? { b: Number(r.b), requests: 0, failures: 0, errors: 0 };
    m.requests += r.requests; m.failures += r.failures; m.errors += r.errors;
    merged.set(m.b, m);
    const c = byIdp.get(r.idp) ?? { requests: 0, failures: 0 };
    c.requests += r.requests; c.failures += r.failures + r.errors;
    byIdp.set(r.idp, c);
  }
  const buckets = fillBuckets(w, [...merged.values()]);
  return {
    ...w,
    totals: sumTotals(buckets),
    buckets,
    causes: causes.rows.map(toCause),
    idps: last.rows.map((r) => ({
      idp: r.idp, lastAt: r.at, lastUserAgent: r.user_agent, lastMethod: r.method, lastOperation: r.operation, lastResourceType: r.resource_type, lastStatus: r.status, lastOutcome: r.outcome,
      requests: byIdp.get(r.idp)?.requests ?? 0, failures: byIdp.get(r.idp)?.failures ?? 0,
    })),
  };
}

export interface TenantHealthRow extends HealthTotals {
  tenantId: string;
  name: string;
  lastAt: Date | null;
  lastIdp: string | null;
  lastStatus: number | null;
  lastOutcome: string | null;
}

export interface OperatorHealth extends HealthWindow {
  totals: HealthTotals;
  buckets: HealthBucket[];
  /** Failure causes across tenants, with how many tenants saw each. */
  causes: (Omit<HealthCause, 'example'> & { tenants: number })[];
  /** Tenants, most failures first; at most `limit`. */
  tenants: TenantHealthRow[];
  tenantCount: number;
}

/** Health across every tenant: one index range per tenant (the log is keyed by tenant first). */
export async function operatorHealth(db: Queryable, w: HealthWindow, limit = 200): Promise<OperatorHealth> {
  const windowRows = `FROM tenants t CROSS JOIN LATERAL (
         SELECT l.at, l.outcome, l.status, l.error FROM provisioning_log l
          WHERE l.tenant_id = t.tenant_id AND l.at >= $1 AND l.at < $2) l`;
  const buckets = await db.query<BucketRow>(
    `SELECT ${BUCKET_COLUMNS.replace('$4', '$3')} ${windowRows} GROUP BY 1`,
    [w.from, w.to, w.bucketSeconds],
  );
  const causes = await db.query<CauseRow & { tenants: number }>(
    `SELECT l.status, l.error->>'code' AS code, l.error->>'scimType' AS scim_type, count(*)::int AS count, max(l.at) AS last_at,
            count(DISTINCT t.tenant_id)::int AS tenants
       ${windowRows} WHERE l.outcome <> 'success'
      GROUP BY 1, 2, 3 ORDER BY 4 DESC, 5 DESC LIMIT 20`,
    [w.from, w.to],
  );
  const tenants = await db.query<{
    tenant_id: string; name: string; requests: number; failures: number; errors: number;
    last_at: Date | null; last_idp: string | null; last_status: number | null; last_outcome: string | null;
  }>(
    `SELECT t.tenant_id, t.name, s.requests, s.failures, s.errors, x.at AS last_at, x.idp AS last_idp, x.status AS last_status,
            x.outcome AS last_outcome
       FROM tenants t
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS requests, (count(*) FILTER (WHERE l.outcome = 'failure'))::int AS failures,
                (count(*) FILTER (WHERE l.outcome = 'error'))::int AS errors
           FROM provisioning_log l WHERE l.tenant_id = t.tenant_id AND l.at >= $1 AND l.at < $2) s
       LEFT JOIN LATERAL (
         SELECT l.at, l.idp, l.status, l.outcome FROM provisioning_log l
          WHERE l.tenant_id = t.tenant_id ORDER BY l.at DESC, l.id DESC LIMIT 1) x ON true
      ORDER BY s.failures + s.errors DESC, s.requests DESC, x.at DESC NULLS LAST, t.name, t.tenant_id
      LIMIT $3`,
    [w.from, w.to, limit],
  );
  const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants');
  const filled = fillBuckets(w, buckets.rows);
  return {
    ...w,
    totals: sumTotals(filled),
    buckets: filled,
    causes: causes.rows.map((r) => {
      const { example: _example, ...c } = toCause({ ...r, example: null });
      return { ...c, tenants: r.tenants };
    }),
    tenants: tenants.rows.map((r) => ({
      tenantId: r.tenant_id, name: r.name, requests: r.requests, failures: r.failures, errors: r.errors,
      lastAt: r.last_at, lastIdp: r.last_idp, lastStatus: r.last_status, lastOutcome: r.last_outcome,
    })),
    tenantCount: count.rows[0]!.n,
  };
}
