import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/types.js';

// An IdP sends the same User-Agent on every request of a sync: remember the last answer.
let lastUa: string | undefined;
let lastIdp = 'other';

/** Which IdP sent a request, from its User-Agent. */
export function detectIdp(userAgent: string | undefined): string {
  if (userAgent !== undefined && userAgent === lastUa) return lastIdp;
  const idp = idpOf(userAgent ?? '');
  lastUa = userAgent;
  lastIdp = idp;
  return idp;
}

function idpOf(ua: string): string {
  if (/Azure ?AD|Microsoft|Entra|\bAAD\b/i.test(ua)) return 'entra';
  if (/Okta/i.test(ua)) return 'okta';
  if (/OneLogin/i.test(ua)) return 'onelogin';
  if (/JumpCloud/i.test(ua)) return 'jumpcloud';
  if (/Ping ?(Identity|Federate|One)/i.test(ua)) return 'ping';
  if (/Google/i.test(ua)) return 'google';
  return 'other';
}

export type Outcome = 'success' | 'failure' | 'error';
export const outcomeOf = (status: number): Outcome => (status >= 500 ? 'error' : status >= 400 ? 'failure' : 'success');

export interface LogEntry {
  tenant_id: string;
  at: string;
  method: string;
  path: string;
  idp: string;
  user_agent: string | null;
  credential_id: string | null;
  operation: string;
  outcome: Outcome;
  status: number;
  resource_type: string | null;
  resource_id: string | null;
  summary: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  duration_ms: number;
}

const SAFE_SCALARS = new Set(['active', 'userName', 'displayName', 'externalId', 'userType']);
const SECRET_KEY = /pass(word)?|secret|token|credential|authorization|api[-_]?key/i;
const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : typeof v === 'boolean' || typeof v === 'number' ? v : undefined);

function attributeNames(v: unknown): string[] | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  return Object.keys(v).filter((k) => k !== 'schemas').sort().slice(0, 100);
}

/**
 * A redacted summary of a request body: an allow-list of identifying scalars, attribute names
 * and operation shapes — never values of other attributes, so no password, token or secret.
 */
export function summarizeBody(operation: string, resourceType: string | null, body: unknown): Record<string, unknown> | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (operation === 'create' || operation === 'replace') {
    const out: Record<string, unknown> = {};
    for (const k of SAFE_SCALARS) if (str(b[k]) !== undefined) out[k] = str(b[k]);
    if (resourceType === 'Group' && Array.isArray(b.members)) out.memberCount = b.members.length;
    out.attributes = attributeNames(b);
    return out;
  }
  if (operation === 'patch' && Array.isArray(b.Operations)) {
    return {
      operations: (b.Operations as Record<string, unknown>[]).slice(0, 50).map((op) => {
        const o: Record<string, unknown> = { op: str(op?.op) };
        const path = typeof op?.path === 'string' ? op.path.slice(0, 200) : undefined;
        if (path) o.path = path;
        const v = op?.value;
        if (path && /^members\b/.test(path)) o.memberCount = Array.isArray(v) ? v.length : v === undefined ? 0 : 1;
        else if (path && SAFE_SCALARS.has(path) && !SECRET_KEY.test(path)) {
          if (str(v) !== undefined) o.value = str(v);
        } else if (!path && v && typeof v === 'object' && !Array.isArray(v)) {
          o.attributes = attributeNames(v);
          const vv = v as Record<string, unknown>;
          if (typeof vv.active === 'boolean' || typeof vv.active === 'string') o.active = vv.active;
          if (Array.isArray(vv.members)) o.memberCount = vv.members.length;
        }
        return o;
      }),
      ...(b.Operations.length > 50 ? { operationCount: b.Operations.length } : {}),
    };
  }
  if (operation === 'bulk' && Array.isArray(b.Operations)) {
    return {
      operationCount: b.Operations.length,
      operations: (b.Operations as Record<string, unknown>[]).slice(0, 100).map((op) => ({
        method: str(op?.method),
        path: typeof op?.path === 'string' ? op.path.slice(0, 200) : undefined,
        bulkId: str(op?.bulkId),
      })),
    };
  }
  if (operation === 'search') {
    return { filter: str(b.filter), startIndex: str(b.startIndex), count: str(b.count) };
  }
  return null;
}

export const redactQuery = (url: string) => !url.includes('?') ? url.slice(0, 2000) :
  url.replace(/([?&][^=&]*(?:pass(?:word)?|secret|token|credential|api[-_]?key)[^=&]*=)[^&]*/gi, '$1[redacted]').slice(0, 2000);

function classify(method: string, routeUrl: string | undefined): { operation: string; resourceType: string | null } {
  const seg = routeUrl?.split('/:tenantId/')[1] ?? '';
  const [first = '', second] = seg.split('/');
  const resourceType = first === 'Users' ? 'User' : first === 'Groups' ? 'Group' : first === 'Bulk' ? 'Bulk' : first === '.search' ? null
    : ['ServiceProviderConfig', 'ResourceTypes', 'Schemas'].includes(first) ? 'Discovery' : null;
  if (second === '.search' || first === '.search') return { operation: 'search', resourceType };
  if (first === 'Bulk') return { operation: 'bulk', resourceType };
  if (resourceType === 'Discovery') return { operation: 'discovery', resourceType };
  switch (method) {
    case 'GET': return { operation: second ? 'read' : 'list', resourceType };
    case 'POST': return { operation: 'create', resourceType };
    case 'PUT': return { operation: 'replace', resourceType };
    case 'PATCH': return { operation: 'patch', resourceType };
    case 'DELETE': return { operation: 'delete', resourceType };
    default: return { operation: method.toLowerCase(), resourceType };
  }
}

export function entryFor(req: FastifyRequest, reply: FastifyReply, err: unknown): LogEntry | undefined {
  const p = req.scim;
  if (!p) return undefined; // unauthenticated: no tenant to attribute it to (and no log flooding)
  const { operation, resourceType } = classify(req.method, req.routeOptions?.url);
  const params = req.params as { id?: string };
  let resourceId = params.id ?? null;
  if (!resourceId && operation === 'create') {
    const loc = reply.getHeader('location');
    if (typeof loc === 'string') resourceId = loc.slice(loc.lastIndexOf('/') + 1) || null;
  }
  let error: Record<string, unknown> | null = null;
  if (reply.statusCode >= 400 && err) {
    const e = err as { scimType?: string; message?: string; code?: string };
    let detail = (e.message ?? '').slice(0, 500);
    const pw = (req.body as { password?: unknown } | undefined)?.password;
    if (typeof pw === 'string' && pw.length > 0) detail = detail.split(pw).join('[redacted]');
    error = { ...(e.scimType ? { scimType: e.scimType } : {}), ...(e.code ? { code: e.code } : {}), detail };
  }
  const ua = req.headers['user-agent'];
  return {
    tenant_id: p.tenantId,
    at: new Date(Date.now() - reply.elapsedTime).toISOString(),
    method: req.method,
    path: redactQuery(req.url),
    idp: detectIdp(ua),
    user_agent: ua ? ua.slice(0, 300) : null,
    credential_id: p.credentialId,
    operation,
    outcome: outcomeOf(reply.statusCode),
    status: reply.statusCode,
    resource_type: resourceType,
    resource_id: resourceId ? resourceId.slice(0, 200) : null,
    summary: summarizeBody(operation, resourceType, req.body),
    error,
    duration_ms: Math.round(reply.elapsedTime * 100) / 100,
  };
}

type Log = { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };

/**
 * Log rows are buffered and written in one INSERT per batch, off the response path: a SCIM write
 * costs no extra round trip. A crash loses at most the last `flushMs` of log rows (not events).
 */
export class ProvisioningLogWriter {
  private queue: LogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly db: Queryable,
    private readonly log: Log,
    private readonly flushMs = 100,
    private readonly maxBatch = 500,
    private readonly maxQueue = 20_000,
  ) {}

  add(e: LogEntry): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.log.warn({}, 'provisioning log queue full; dropping oldest entries');
    }
    this.queue.push(e);
    if (this.queue.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes everything queued so far (tests, shutdown). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.flushing.then(async () => {
      // Only what is queued now: entries that arrive meanwhile wait for their own timer, so a
      // steady stream is written every flushMs in large batches, not one small INSERT per round trip.
      const queued = this.queue.splice(0);
      while (queued.length > 0) {
        const batch = queued.splice(0, this.maxBatch);
        try {
          await insertLogEntries(this.db, batch);
        } catch (err) {
          this.log.error({ err, entries: batch.length }, 'provisioning log write failed');
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}

export async function insertLogEntries(db: Queryable, batch: LogEntry[]): Promise<void> {
  if (batch.length === 0) return;
  // One parameter whatever the batch size; rows of deleted tenants are dropped.
  await db.query(
    `INSERT INTO provisioning_log (tenant_id, at, method, path, idp, user_agent, credential_id, operation, outcome, status,
                                   resource_type, resource_id, summary, error, duration_ms)
     SELECT v.tenant_id, v.at, v.method, v.path, v.idp, v.user_agent, v.credential_id, v.operation, v.outcome, v.status,
            v.resource_type, v.resource_id, v.summary, v.error, v.duration_ms
       FROM jsonb_to_recordset($1::jsonb) AS v(tenant_id uuid, at timestamptz, method text, path text, idp text, user_agent text,
            credential_id text, operation text, outcome text, status integer, resource_type text, resource_id text,
            summary jsonb, error jsonb, duration_ms real)
      WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.tenant_id = v.tenant_id)`,
    [batchJson(batch)],
  );
}

/**
 * The batch as JSON that jsonb accepts. JSON.stringify writes U+0000 and lone surrogates as \u0000 and
 * \udXXX escapes (paired surrogates stay literal characters), so only a batch whose text has such an
 * escape needs the slower per-string replacer; the common batch is stringified once, without it.
 */
export function batchJson(batch: LogEntry[]): string {
  const json = JSON.stringify(batch);
  return /\\u(?:0000|d[89a-f])/i.test(json) ? JSON.stringify(batch, pgSafe) : json;
}

/** jsonb refuses U+0000 and lone surrogates, which any request may carry: one such entry must not lose its batch. */
const pgSafe = (_k: string, v: unknown) => (typeof v === 'string' ? v.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : v);

/**
 * Adds the provisioning-log hooks to the SCIM plugin (one line in src/scim/plugin.ts). The writer is
 * the app's (AppDeps.provisioningLog, built and closed by buildApp).
 */
export function registerProvisioningLog(app: FastifyInstance, writer: ProvisioningLogWriter): void {
  // The error a request failed with, kept from onError to onResponse (gone with the request).
  const errors = new WeakMap<FastifyRequest, unknown>();
  app.addHook('onError', async (req, _reply, err) => {
    errors.set(req, err);
  });
  app.addHook('onResponse', (req, reply, done) => {
    try {
      const e = entryFor(req, reply, errors.get(req));
      if (e) writer.add(e);
    } catch (err) {
      req.log.error({ err }, 'provisioning log entry failed');
    }
    done();
  });
}

export interface LogQuery {
  from?: Date;
  to?: Date;
  outcome?: Outcome;
  resourceType?: string;
  resourceId?: string;
  method?: string;
  idp?: string;
  operation?: string;
  limit: number;
  cursor?: string;
}

export interface LogRow extends Omit<LogEntry, 'at'> {
  id: number | string;
  at: Date;
}

export const encodeCursor = (at: Date, id: number | string) => Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
export function decodeCursor(c: string): { at: Date; id: number } | undefined {
  const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  const d = new Date(at ?? '');
  if (Number.isNaN(d.getTime()) || !/^\d+$/.test(id ?? '')) return undefined;
  return { at: d, id: Number(id) };
}

/** Newest first, keyset-paged on (at, id). */
export async function queryProvisioningLog(db: Queryable, tenantId: string, q: LogQuery): Promise<{ entries: LogRow[]; nextCursor: string | null }> {
  const params: unknown[] = [tenantId];
  const where = ['tenant_id = $1'];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.from) add('at >= ?', q.from);
  if (q.to) add('at < ?', q.to);
  if (q.outcome) add('outcome = ?', q.outcome);
  if (q.resourceType) add('resource_type = ?', q.resourceType);
  if (q.resourceId) add('resource_id = ?', q.resourceId);
  if (q.method) add('method = ?', q.method.toUpperCase());
  if (q.idp) add('idp = ?', q.idp);
  if (q.operation) add('operation = ?', q.operation);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    if (c) {
      params.push(c.at, c.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
    }
  }
  params.push(q.limit + 1);
  const { rows } = await db.query<LogRow>(
    `SELECT id, tenant_id, at, method, path, idp, user_agent, credential_id, operation, outcome, status, resource_type, resource_id,
            summary, error, duration_ms
       FROM provisioning_log WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const more = rows.length > q.limit;
  const entries = more ? rows.slice(0, q.limit) : rows;
  const last = entries[entries.length - 1];
  return { entries, nextCursor: more && last ? encodeCursor(last.at, last.id) : null };
}
