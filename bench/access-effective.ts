/**
 * Benchmark: effectiveAccess (identity, groups, access groups, datasets, roles, metadata) for random
 * identities of one large tenant on PostgreSQL.
 *
 *   node --import tsx bench/access-effective.ts            # DATABASE_URL or postgres://postgres@127.0.0.1:5432/test
 *   BENCH_KEEP=1 …                                          # keep the seeded tenant afterwards
 *
 * Seeds with generate_series (one statement per table): 100k users, 10k SCIM groups, 1M memberships
 * (10 groups per user), 10k datasets, 5k access groups (every other group name; 3 datasets each),
 * 10k manual memberships, 200k direct grants (per user: one resolvable value — a dataset id for even users,
 * an externalId for odd ones — and one unknown value).
 * Prints JSON: sizes, seed time, p50/p90/p99/max latency of effectiveAccess, and the plan's scan nodes.
 */
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/db/migrate.js';
import { effectiveAccess } from '../src/access/index.js';

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 10_000);
const PER_USER = Number(process.env.BENCH_GROUPS_PER_USER ?? 10); // memberships = USERS × PER_USER
const DATASETS = Number(process.env.BENCH_DATASETS ?? 10_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5_000);
const WARMUP = 500;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (n: number) => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  const db = await openDatabase({ databaseUrl: URL, poolMax: 2 });
  await migrate(db);
  const tenantId = randomUUID();
  const t0 = performance.now();
  // deterministic ids: md5(tenant || kind || n)::uuid
  const id = (kind: string, n: string) => `md5('${tenantId}' || '${kind}' || ${n})::uuid`;
  await db.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'bench access-effective')`, [tenantId]);
  await db.query(
    `INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, data, source, status)
     SELECT $1, ${id('u', 'i')}, 'user' || i || '@bench.example', 'ext-u' || i, 'User ' || i,
            jsonb_build_object('userName', 'user' || i || '@bench.example', 'userType', 'Standard',
              'roles', jsonb_build_array(jsonb_build_object('value', 'User')),
              'urn:ietf:params:scim:schemas:extension:2.0:Metadata', jsonb_build_object('costCenter', (i % 100)::text)),
            'scim', 'active'
       FROM generate_series(1, $2::int) AS i`,
    [tenantId, USERS],
  );
  await db.query(
    `INSERT INTO scim_groups (tenant_id, id, display_name, external_id, data)
     SELECT $1, ${id('g', 'i')}, 'group-' || i, 'ext-g' || i, jsonb_build_object('displayName', 'group-' || i)
       FROM generate_series(1, $2::int) AS i`,
    [tenantId, GROUPS],
  );
  await db.query(
    `INSERT INTO scim_group_members (tenant_id, group_id, member_id)
     SELECT $1, ${id('g', '(1 + (i * 7 + k * 1013) % $3::int)')}, ${id('u', 'i')}
       FROM generate_series(1, $2::int) AS i, generate_series(0, $4::int - 1) AS k
     ON CONFLICT DO NOTHING`,
    [tenantId, USERS, GROUPS, PER_USER],
  );
  await db.query(
    `INSERT INTO datasets (tenant_id, id, name, external_id)
     SELECT $1, ${id('d', 'i')}, 'dataset-' || i, 'ext-d' || i FROM generate_series(1, $2::int) AS i`,
    [tenantId, DATASETS],
  );
  await db.query(
    `INSERT INTO access_groups (tenant_id, id, name)
     SELECT $1, ${id('a', 'i')}, 'group-' || i FROM generate_series(2, $2::int, 2) AS i`,
    [tenantId, GROUPS],
  );
  await db.query(
    `INSERT INTO access_group_datasets (tenant_id, access_group_id, dataset_id)
     SELECT $1, ${id('a', 'i')}, ${id('d', '(1 + (i * 3 + k * 977) % $3::int)')}
       FROM generate_series(2, $2::int, 2) AS i, generate_series(0, 2) AS k
     ON CONFLICT DO NOTHING`,
    [tenantId, GROUPS, DATASETS],
  );
  await db.query(
    `INSERT INTO access_group_members (tenant_id, access_group_id, identity_id)
     SELECT $1, ${id('a', '(2 * (1 + i % ($3::int / 2)))')}, ${id('u', '(1 + (i * 13) % $2::int)')}
       FROM generate_series(1, 10000) AS i
     ON CONFLICT DO NOTHING`,
    [tenantId, USERS, GROUPS],
  );
  await db.query(
    `INSERT INTO identity_grants (tenant_id, identity_id, value, value_id)
     SELECT $1, ${id('u', 'i')}, v, CASE WHEN v LIKE '%-%-%-%-%' THEN v::uuid END
       FROM generate_series(1, $2::int) AS i,
            LATERAL (VALUES (CASE WHEN i % 2 = 0 THEN ${id('d', '(1 + (i * 31) % $3::int)')}::text ELSE 'ext-d' || (1 + (i * 31) % $3::int) END),
                            ('unknown-' || i)) AS x(v)`,
    [tenantId, USERS, DATASETS],
  );
  for (const table of ['scim_users', 'scim_groups', 'scim_group_members', 'datasets', 'access_groups', 'access_group_datasets', 'access_group_members', 'identity_grants']) {
    await db.query(`ANALYZE ${table}`);
  }
  const seedMs = performance.now() - t0;

  const { rows: idRows } = await db.query<{ id: string }>('SELECT id FROM scim_users WHERE tenant_id = $1', [tenantId]);
  const ids = idRows.map((r) => r.id);
  const pick = () => ids[Math.floor(Math.random() * ids.length)]!;

  // The plan of the statement effectiveAccess runs (captured through the same driver).
  const sample = pick();
  const { rows: plan } = await db.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${(await import('../src/access/effective.js')).EFFECTIVE_SQL}`,
    [tenantId, sample],
  );
  const planText = plan.map((r) => r['QUERY PLAN']);
  const scans = planText.map((l) => l.trim()).filter((l) => /Scan/.test(l)).map((l) => l.replace(/^->\s*/, '').replace(/\s+\(actual.*$/, ''));
  const seqScans = scans.filter((s) => /^Seq Scan/.test(s) && !/on tenants/.test(s));

  for (let i = 0; i < WARMUP; i++) await effectiveAccess(db, tenantId, pick());
  const times: number[] = [];
  let datasetsSeen = 0;
  let groupsSeen = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const s = performance.now();
    const a = await effectiveAccess(db, tenantId, pick());
    times.push(performance.now() - s);
    datasetsSeen += a?.datasets.length ?? 0;
    groupsSeen += a?.groups.length ?? 0;
  }
  times.sort((a, b) => a - b);

  if (!process.env.BENCH_KEEP) await db.query('DELETE FROM tenants WHERE tenant_id = $1', [tenantId]);
  await db.close();
  console.log(JSON.stringify({
    scenario: 'effectiveAccess, random identity, PostgreSQL',
    sizes: { users: USERS, groups: GROUPS, memberships: USERS * PER_USER, datasets: DATASETS, accessGroups: Math.floor(GROUPS / 2), directGrants: USERS * 2 },
    seedSeconds: round(seedMs / 1000),
    iterations: ITERATIONS,
    avgGroupsPerIdentity: round(groupsSeen / ITERATIONS),
    avgDatasetsPerIdentity: round(datasetsSeen / ITERATIONS),
    latencyMs: { p50: round(pct(times, 50)), p90: round(pct(times, 90)), p99: round(pct(times, 99)), max: round(times[times.length - 1]!) },
    target: 'p50 < 2 ms',
    pass: pct(times, 50) < 2,
    planExecutionTime: planText.find((l) => l.startsWith('Execution Time')),
    planScans: scans,
    seqScansOnTenantTables: seqScans,
  }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
