import type { ScimContext } from '../resources/context.js';
import * as users from '../resources/users-service.js';
import * as groups from '../resources/groups-service.js';
import { ScimError, InvalidSyntaxError, InvalidValueError, PayloadTooLargeError, MethodNotAllowedError } from '../errors.js';
import { etagOf } from '../resources/etag.js';
import { toScimError } from '../../http/error-handler.js';

export const BULK_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

export interface BulkOp {
  method: string;
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

export interface BulkOpResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

const BULK_REF = /^bulkId:(.+)$/;

/** Replaces every "bulkId:x" string inside a value; collects the ids it could not resolve yet. */
function substitute(value: unknown, ids: Map<string, string>, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    const m = BULK_REF.exec(value);
    if (!m) return value;
    const id = ids.get(m[1]!);
    if (id === undefined) missing.add(m[1]!);
    return id ?? value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, ids, missing)]));
  }
  return value;
}

function parseOps(body: unknown, maxOperations: number): { ops: BulkOp[]; failOnErrors: number } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidSyntaxError('A BulkRequest body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.Operations)) throw new InvalidSyntaxError('BulkRequest.Operations must be an array');
  if (b.Operations.length > maxOperations) {
    throw new PayloadTooLargeError(`BulkRequest has ${b.Operations.length} operations; the maximum is ${maxOperations}`);
  }
  let failOnErrors = Infinity;
  if (b.failOnErrors !== undefined) {
    if (!Number.isInteger(b.failOnErrors) || (b.failOnErrors as number) < 1) throw new InvalidValueError('failOnErrors must be a positive integer');
    failOnErrors = b.failOnErrors as number;
  }
  const seen = new Set<string>();
  const ops = b.Operations.map((raw, i): BulkOp => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidSyntaxError(`Operations[${i}] must be an object`);
    const o = raw as Record<string, unknown>;
    if (typeof o.method !== 'string') throw new InvalidSyntaxError(`Operations[${i}].method is required`);
    if (typeof o.path !== 'string' || !o.path.startsWith('/')) throw new InvalidSyntaxError(`Operations[${i}].path must be a path such as "/Users"`);
    if (o.bulkId !== undefined && (typeof o.bulkId !== 'string' || o.bulkId === '')) throw new InvalidSyntaxError(`Operations[${i}].bulkId must be a non-empty string`);
    if (o.method.toUpperCase() === 'POST' && o.bulkId === undefined) throw new InvalidSyntaxError(`Operations[${i}]: POST requires a bulkId`);
    if (typeof o.bulkId === 'string') {
      if (seen.has(o.bulkId)) throw new InvalidSyntaxError(`Operations[${i}]: bulkId "${o.bulkId}" is used twice`);
      seen.add(o.bulkId);
    }
    return { method: o.method.toUpperCase(), bulkId: o.bulkId as string | undefined, version: typeof o.version === 'string' ? o.version : undefined, path: o.path, data: o.data };
  });
  return { ops, failOnErrors };
}

async function execute(ctx: ScimContext, op: BulkOp, path: string, data: unknown): Promise<BulkOpResult> {
  const m = /^\/(Users|Groups)(?:\/([^/?#]+))?$/.exec(path);
  if (!m) throw new InvalidValueError(`Bulk path "${path}" is not /Users, /Groups or /{Users|Groups}/{id}`);
  const [, type, id] = m;
  const base: BulkOpResult = { method: op.method, status: '200' };
  if (op.bulkId) base.bulkId = op.bulkId;
  if (op.method === 'POST') {
    if (id) throw new MethodNotAllowedError('POST takes a collection path (/Users or /Groups)');
    const v = type === 'Users' ? (await users.createUser(ctx, data)).view : await groups.createGroup(ctx, data);
    return { ...base, status: '201', location: `${ctx.baseUrl}/${type}/${v.row.id}`, version: etagOf(v.row.version) };
  }
  if (!id) throw new MethodNotAllowedError(`${op.method} needs a resource path (/${type}/{id})`);
  const location = `${ctx.baseUrl}/${type}/${id}`;
  switch (op.method) {
    case 'PUT': {
      const v = type === 'Users' ? await users.replaceUser(ctx, id, data, op.version) : await groups.replaceGroup(ctx, id, data, op.version, false);
      return { ...base, location, version: etagOf(v.row.version) };
    }
    case 'PATCH': {
      const v = type === 'Users' ? await users.patchUser(ctx, id, data, op.version) : await groups.patchGroup(ctx, id, data, op.version, false);
      return { ...base, location, version: etagOf(v.row.version) };
    }
    case 'DELETE':
      if (type === 'Users') await users.deleteUser(ctx, id, op.version);
      else await groups.deleteGroup(ctx, id, op.version);
      return { ...base, location, status: '204' };
    default:
      throw new MethodNotAllowedError(`Bulk method ${op.method} is not supported (POST, PUT, PATCH, DELETE)`);
  }
}

/** Every bulkId that a value references ("bulkId:x" strings, at any depth; path segments too). */
function collectRefs(value: unknown, out: Set<string>): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const m = BULK_REF.exec(v);
      if (m) out.add(m[1]!);
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v)) stack.push(x);
    }
  }
}

/**
 * RFC 7644 §3.7. Each operation is its own transaction (bulk is not atomic). An operation that
 * references a bulkId runs once the operation with that bulkId has created its resource; the
 * dependencies are read once, so a chain of 1,000 bulkIds in any order costs linear work (the
 * operations run in index order among those ready). Operations whose bulkIds never resolve
 * (unknown, failed or circular) fail with 409.
 */
export async function runBulk(ctx: ScimContext, body: unknown, maxOperations: number): Promise<Record<string, unknown>> {
  const { ops, failOnErrors } = parseOps(body, maxOperations);
  const results = await scheduleBulk(ops, failOnErrors, (op, path, data) => execute(ctx, op, path, data));
  return { schemas: [BULK_RESPONSE_SCHEMA], Operations: results };
}

/** Runs the operations in dependency order (see runBulk); `run` executes one with its bulkIds substituted. */
export async function scheduleBulk(
  ops: BulkOp[], failOnErrors: number, run: (op: BulkOp, path: string, data: unknown) => Promise<BulkOpResult>,
): Promise<BulkOpResult[]> {
  const ids = new Map<string, string>();
  const results: (BulkOpResult | undefined)[] = new Array(ops.length);
  // Unresolved bulkIds of each operation, and the operations waiting for each bulkId.
  const unresolved = ops.map(() => 0);
  const waiting = new Map<string, number[]>();
  const ready = new MinHeap();
  ops.forEach((op, i) => {
    const refs = new Set<string>();
    for (const seg of op.path.split('/')) { const m = BULK_REF.exec(seg); if (m) refs.add(m[1]!); }
    collectRefs(op.data, refs);
    unresolved[i] = refs.size;
    for (const ref of refs) {
      const list = waiting.get(ref);
      if (list) list.push(i);
      else waiting.set(ref, [i]);
    }
    if (refs.size === 0) ready.push(i);
  });
  let errors = 0;
  let stopped = false;
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    if (errors >= failOnErrors) { stopped = true; break; }
    const op = ops[i]!;
    const missing = new Set<string>();
    const pathResolved = op.path.split('/').map((seg) => (BULK_REF.test(seg) ? (ids.get(seg.slice(7)) ?? seg) : seg)).join('/');
    const data = substitute(op.data, ids, missing);
    try {
      const r = await run(op, pathResolved, data);
      if (op.bulkId && r.location) {
        ids.set(op.bulkId, r.location.slice(r.location.lastIndexOf('/') + 1));
        for (const w of waiting.get(op.bulkId) ?? []) if (--unresolved[w]! === 0) ready.push(w);
      }
      results[i] = r;
    } catch (err) {
      const e = err instanceof ScimError ? err : toScimError(err);
      if (e.status >= 500) throw err;
      errors++;
      results[i] = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}), status: String(e.status), response: e.toJSON() };
    }
  }
  if (!stopped) {
    // What never became ready references bulkIds that were not created (unknown, failed or circular).
    ops.forEach((op, i) => {
      if (results[i] !== undefined) return;
      const err = new ScimError(409, 'ERR_SCIM_BULK_UNRESOLVED', 'This operation references a bulkId that was not created (unknown, failed or circular)', 'invalidValue');
      results[i] = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}), status: '409', response: err.toJSON() };
    });
  }
  return results.filter((r): r is BulkOpResult => r !== undefined);
}

/** Operation indexes, smallest first. */
class MinHeap {
  private readonly a: number[] = [];
  push(x: number): void {
    const a = this.a;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
