/**
 * Shared by the security and reliability suites: log capture, tenant snapshots, and the
 * response-format checks every rejected request must pass.
 */
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/types.js';

export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12, table 9. */
export const SCIM_TYPES = new Set([
  'invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive',
]);

/** A pino destination that keeps every line; `errors()` are the level ≥ 50 entries. */
export function captureLogs() {
  const lines: string[] = [];
  return {
    stream: { write: (line: string) => { lines.push(line); } },
    lines,
    errors: () => lines.filter((l) => /"level":(5\d|60)/.test(l)),
    clear: () => { lines.length = 0; },
  };
}

/** Columns that change on their own (workers, bookkeeping), not through a request's outcome. */
const VOLATILE = ['last_used_at', 'dispatched_at', 'attempts', 'next_attempt_at', 'last_attempt_at', 'last_status', 'last_error',
  'state', 'delivered_at', 'dead_at', 'lease_until', 'locked_until', 'claimed_at', 'claimed_by', 'sent_at', 'updated_at_worker'];
/**
 * Tables written for every request or by background workers. Workers of other test files share the
 * PostgreSQL database and serve every tenant, this one's too: the dispatch cursor and the access
 * expansion's bookkeeping move on their own, whatever a request did.
 */
const SKIPPED = new Set(['provisioning_log', 'webhook_deliveries', 'system_settings', 'event_cursors', 'access_changes', 'access_announced']);

/** One SQL statement that returns a digest of every row a tenant owns, per table. */
export async function tenantSnapshotter(db: Database): Promise<(tenantId: string) => Promise<Record<string, string>>> {
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns
      WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY table_name`,
  );
  const tables = rows.map((r) => r.table_name).filter((t) => !SKIPPED.has(t));
  const vol = `ARRAY[${VOLATILE.map((c) => `'${c}'`).join(',')}]::text[]`;
  const part = (t: string, arg: string) =>
    `(SELECT coalesce(string_agg(x, E'\\n' ORDER BY x), '') FROM (SELECT (to_jsonb(r) - ${vol})::text AS x FROM ${t} r WHERE r.tenant_id = ${arg}) s)`;
  if (db.kind === 'pglite') {
    // One session: a PL/pgSQL function keeps its plans, 25× faster than planning 15 subqueries each time.
    await db.exec(`CREATE OR REPLACE FUNCTION pg_temp.idpb_test_snapshot(tid uuid) RETURNS text[] LANGUAGE plpgsql STABLE AS $f$
      BEGIN RETURN ARRAY[${tables.map((t) => part(t, 'tid')).join(', ')}]; END $f$`);
    return async (tenantId: string) => {
      const { rows: [row] } = await db.query<{ s: string[] }>('SELECT pg_temp.idpb_test_snapshot($1) AS s', [tenantId]);
      return Object.fromEntries(tables.map((t, i) => [t, row!.s[i]!]));
    };
  }
  const sql = `SELECT ${tables.map((t) => `${part(t, '$1')} AS "${t}"`).join(',\n')}`;
  return async (tenantId: string) => (await db.query<Record<string, string>>(sql, [tenantId])).rows[0]!;
}

export function diffSnapshots(a: Record<string, string>, b: Record<string, string>): string | undefined {
  for (const k of Object.keys(a)) {
    if (a[k] !== b[k]) return `${k} changed:\n- ${a[k]!.slice(0, 600)}\n+ ${b[k]!.slice(0, 600)}`;
  }
  return undefined;
}

export interface Answer { status: number; headers: Record<string, unknown>; body: string }

/** Why a SCIM answer is malformed (undefined = fine). 2xx/3xx answers are only checked for a JSON body when one is present. */
export function scimProblem(r: Answer, urlError = false): string | undefined {
  if (r.status >= 500) return `status ${r.status}`;
  if (r.status < 400) return undefined;
  const ct = String(r.headers['content-type'] ?? '');
  if (!ct.startsWith('application/scim+json')) return `content-type ${ct}`;
  let b: any;
  try { b = JSON.parse(r.body); } catch { return 'error body is not JSON'; }
  if (!Array.isArray(b.schemas) || !b.schemas.includes(SCIM_ERROR)) return 'error without the SCIM Error schema';
  if (b.status !== String(r.status)) return `status field ${JSON.stringify(b.status)} ≠ "${r.status}"`;
  if (typeof b.detail !== 'string' || b.detail.length < 8) return `detail ${JSON.stringify(b.detail)}`;
  if (b.scimType !== undefined && !SCIM_TYPES.has(b.scimType)) return `scimType ${b.scimType}`;
  if (r.status === 400 && b.scimType === undefined && !urlError) return '400 without scimType';
  if (r.status === 409 && b.scimType !== undefined && !['uniqueness', 'invalidValue'].includes(b.scimType)) return `409 scimType ${b.scimType}`;
  if (r.status === 429 && !(Number(r.headers['retry-after']) > 0)) return '429 without Retry-After';
  return undefined;
}

/** Why an admin (or /v1) answer is malformed. */
export function adminProblem(r: Answer): string | undefined {
  if (r.status >= 500) return `status ${r.status}`;
  if (r.status < 400) return undefined;
  let b: any;
  try { b = JSON.parse(r.body); } catch { return 'error body is not JSON'; }
  if (b.statusCode !== r.status) return `statusCode ${b.statusCode} ≠ ${r.status}`;
  for (const k of ['code', 'error', 'message']) if (typeof b[k] !== 'string' || b[k].length === 0) return `${k} ${JSON.stringify(b[k])}`;
  if (r.status === 429 && !(Number(r.headers['retry-after']) > 0)) return '429 without Retry-After';
  return undefined;
}

/** Collects failures by kind so one run shows every class of problem, not only the first. */
export class Findings {
  tried = 0;
  private byKind = new Map<string, { n: number; example: string }>();
  add(kind: string, example: string) {
    const f = this.byKind.get(kind);
    if (f) f.n++;
    else this.byKind.set(kind, { n: 1, example: example.slice(0, 1500) });
  }
  get count() { let n = 0; for (const f of this.byKind.values()) n += f.n; return n; }
  report(): string {
    return [...this.byKind.entries()].map(([k, f]) => `${f.n}× ${k}\n   e.g. ${f.example}`).join('\n');
  }
  assertNone(label: string) {
    assert.equal(this.count, 0, `${label}: ${this.count} failures of ${this.tried} inputs\n${this.report()}`);
  }
}

/** Printable description of an input for failure reports. */
export function show(x: unknown): string {
  const s = typeof x === 'string' ? x : Buffer.isBuffer(x) ? `<bytes ${x.toString('hex').slice(0, 200)}>` : JSON.stringify(x);
  return s === undefined ? 'undefined' : s.length > 400 ? `${s.slice(0, 400)}…(${s.length} chars)` : s;
}

export interface Sent { status: number; body: string; headers: Record<string, unknown> }

/**
 * "A rejected request changes nothing", checked cheaply: requests run in windows; a window with no
 * accepted write must leave the tenant's snapshot as it was. A window with an accepted write is
 * replayed request by request (snapshot before and after each rejected one).
 */
export class UnchangedChecker {
  private baseline: Record<string, string> | undefined;
  private window: Array<{ label: string; input: unknown; send: () => Promise<Sent> }> = [];
  private dirty = false;
  constructor(
    private readonly snap: () => Promise<Record<string, string>>,
    private readonly findings: Findings,
    private size = 25,
  ) {}

  /** Sends once; `changes` is whether an accepted answer may have written. */
  async run(label: string, input: unknown, send: () => Promise<Sent>, changes: boolean): Promise<Sent> {
    this.baseline ??= await this.snap();
    const r = await send();
    if (r.status >= 400) this.window.push({ label, input, send });
    else if (changes && this.window.length === 0) this.baseline = undefined; // nothing to verify: a fresh baseline before the next one
    else if (changes) this.dirty = true;
    if (this.window.length >= this.size) await this.checkpoint();
    return r;
  }

  async checkpoint(): Promise<void> {
    const window = this.window;
    this.window = [];
    if (!this.dirty) {
      if (window.length === 0) return;
      const now = await this.snap();
      const d = diffSnapshots(this.baseline!, now);
      this.baseline = now;
      if (!d) return;
      // Find the culprit one by one.
      const before = this.findings.count;
      await this.replay(window);
      if (this.findings.count === before) this.findings.add('data changed during a window of rejected requests (no single culprit on replay)', d);
      return;
    }
    this.dirty = false;
    this.baseline = await this.snap();
    await this.replay(window);
  }

  /** Requests per window: 1 checks every rejected request on its own (for inputs that are often accepted). */
  setWindow(size: number) { this.size = size; }

  private async replay(window: Array<{ label: string; input: unknown; send: () => Promise<Sent> }>): Promise<void> {
    for (const w of window) {
      const before = await this.snap();
      const r = await w.send();
      const after = await this.snap();
      if (r.status >= 400) {
        const d = diffSnapshots(before, after);
        if (d) this.findings.add(`${w.label}: data changed after a ${r.status}`, `${show(w.input)}\n${d}`);
      }
      this.baseline = after;
    }
  }
}
