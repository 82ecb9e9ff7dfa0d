/**
 * Entra-style initial sync, as the client process (never in the server's process).
 * Spec in BENCH_SYNC (JSON). Phases, each with `workers` concurrent requests like Entra's threads:
 *   users:   for each user  GET /Users?filter=userName eq "…" (expects none) then POST /Users
 *   groups:  for each group GET /Groups?filter=displayName eq "…"&excludedAttributes=members then POST /Groups
 *   members: PATCH /Groups/{id} {"op":"Add","path":"members","value":[{"value":…}, …]} in batches
 * Prints one JSON line: counts, seconds and rates per phase, latency percentiles, failures.
 */
import { RawHttpConnection } from './raw-http.js';
import { userBody } from './bodies.js';

export interface SyncSpec {
  /** SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2/<tenant> */
  base: string;
  token: string;
  users: number;
  groups: number;
  memberships: number;
  workers: number;
  batch: number;
  /** unique per run so several runs can share a tenant */
  prefix: string;
}

export interface PhaseResult { requests: number; seconds: number; perSecond: number; p50: number; p99: number }
export interface SyncResult {
  users: PhaseResult & { usersPerSecond: number };
  groups: PhaseResult;
  members: PhaseResult & { memberships: number };
  totalSeconds: number;
  /** CPU (user+system) of this client process: it shares the machine's cores with the server */
  clientCpuSeconds: number;
  failures: number;
  firstFailure?: string;
}

const spec = JSON.parse(process.env.BENCH_SYNC!) as SyncSpec;
let failures = 0;
let firstFailure: string | undefined;

// One keep-alive connection per worker, one request in flight on each, like an IdP's threads
// (raw-http.ts: a client whose own CPU does not crowd out the server on 2 shared cores).
const origin = new URL(spec.base);
const basePath = origin.pathname.replace(/\/$/, '');
const headers = `authorization: Bearer ${spec.token}\r\ncontent-type: application/scim+json\r\naccept: application/scim+json\r\n`;
const connections = Array.from({ length: spec.workers }, () => new RawHttpConnection(origin.hostname, Number(origin.port || 80), headers));

/** One request; the JSON body is parsed only when the caller needs it (a created resource's id). */
async function call(worker: number, method: string, path: string, body: string | undefined, expect: number[], parse = false): Promise<unknown> {
  const res = await connections[worker]!.request(method, `${basePath}${path}`, body);
  if (!expect.includes(res.status)) {
    failures++;
    firstFailure ??= `${method} ${path} → ${res.status} ${res.body.slice(0, 300)}`;
    return undefined;
  }
  return parse && res.body ? JSON.parse(res.body) : undefined;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

/** Runs `tasks` with `workers` in flight; each task's requests are timed individually. */
async function phase(count: number, task: (i: number, timed: (f: () => Promise<unknown>) => Promise<unknown>, worker: number) => Promise<void>): Promise<PhaseResult> {
  const lat: number[] = [];
  const timed = async (f: () => Promise<unknown>) => { const t = performance.now(); const r = await f(); lat.push(performance.now() - t); return r; };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: spec.workers }, async (_, worker) => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      await task(i, timed, worker);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { requests: lat.length, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round(lat.length / seconds), p50: pct(lat, 50), p99: pct(lat, 99) };
}

const q = (f: string) => encodeURIComponent(f);
const userIds: string[] = new Array(spec.users);
const groupIds: string[] = new Array(spec.groups);
const t0 = performance.now();

const users = await phase(spec.users, async (i, timed, w) => {
  const userName = `${spec.prefix}-u${i}@contoso.example`;
  await timed(() => call(w, 'GET', `/Users?filter=${q(`userName eq "${userName}"`)}`, undefined, [200]));
  const created = (await timed(() => call(w, 'POST', '/Users', userBody(userName, i), [201], true))) as { id: string } | undefined;
  if (created) userIds[i] = created.id;
});

const groups = await phase(spec.groups, async (i, timed, w) => {
  const displayName = `${spec.prefix} group ${i}`;
  await timed(() => call(w, 'GET', `/Groups?filter=${q(`displayName eq "${displayName}"`)}&excludedAttributes=members`, undefined, [200]));
  const created = (await timed(() => call(w, 'POST', '/Groups', JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName, externalId: `${spec.prefix}-g${i}`,
  }), [201], true))) as { id: string } | undefined;
  if (created) groupIds[i] = created.id;
});

// Memberships: group g gets per = memberships/groups users, spread over the user range; tasks are
// ordered batch-major so concurrent workers patch different groups (as Entra's threads do).
const per = Math.floor(spec.memberships / spec.groups);
const batchesPerGroup = Math.ceil(per / spec.batch);
const tasks: { g: number; members: string[] }[] = [];
for (let b = 0; b < batchesPerGroup; b++) {
  for (let g = 0; g < spec.groups; g++) {
    const members: string[] = [];
    for (let k = b * spec.batch; k < Math.min(per, (b + 1) * spec.batch); k++) {
      const id = userIds[(g * 7919 + k * 37) % spec.users];
      if (id) members.push(id);
    }
    if (members.length > 0) tasks.push({ g, members });
  }
}
let memberships = 0;
const members = await phase(tasks.length, async (i, timed, w) => {
  const t = tasks[i]!;
  const gid = groupIds[t.g];
  if (!gid) return;
  memberships += t.members.length;
  await timed(() => call(w, 'PATCH', `/Groups/${gid}`, JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'Add', path: 'members', value: t.members.map((value) => ({ value })) }],
  }), [200, 204]));
});

const result: SyncResult = {
  users: { ...users, usersPerSecond: Math.round(spec.users / users.seconds) },
  groups,
  members: { ...members, memberships },
  totalSeconds: Math.round((performance.now() - t0) / 10) / 100,
  clientCpuSeconds: (() => { const u = process.cpuUsage(); return Math.round((u.user + u.system) / 1e4) / 100; })(),
  failures,
  ...(firstFailure ? { firstFailure } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
for (const c of connections) c.close();
