/**
 * Group PATCH, Entra shapes, sequential: remove one member
 *   {"op":"Remove","path":"members","value":[{"value":"<id>"}]}
 * then add it back
 *   {"op":"Add","path":"members","value":[{"value":"<id>"}]}
 * on seeded groups of 10, 10k and 100k members of the big tenant (which also holds its background
 * groups and memberships). Target: p50 at 100k ≤ 1.25 × p50 at 10, for both operations.
 */
import { createHash } from 'node:crypto';
import { startIdpbridge } from '../lib/proc.js';
import type { BenchContext, Row, ScenarioResult, Verdict } from '../lib/types.js';

export const md5Uuid = (s: string) => {
  const h = createHash('md5').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
/** The ids lib/db.ts seeds: md5(tenant || kind || n)::uuid */
export const seededId = (tenantId: string, kind: string, n: number) => md5Uuid(`${tenantId}${kind}${n}`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes, tenants } = ctx;
  const t = tenants.big;
  const srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  const headers = { authorization: `Bearer ${t.token}`, 'content-type': 'application/scim+json' };
  const patch = async (groupId: string, op: 'Add' | 'Remove', userId: string): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(`${srv.url}${t.scimBase}/Groups/${groupId}`, {
      method: 'PATCH', headers,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op, path: 'members', value: [{ value: userId }] }] }),
    });
    await r.arrayBuffer();
    const ms = performance.now() - t0;
    if (r.status !== 204 && r.status !== 200) throw new Error(`PATCH ${op} → ${r.status}`);
    return ms;
  };

  const rows: Row[] = [];
  const p50: Record<number, { add: number; remove: number }> = {};
  const rss = srv.sampleRss();
  for (const size of sizes.groupSizes) {
    ctx.log(`  group of ${size}`);
    const gid = seededId(t.id, 'sg', size);
    const add: number[] = [];
    const remove: number[] = [];
    const warm = Math.min(30, sizes.patchIterations);
    for (let i = 0; i < warm + sizes.patchIterations; i++) {
      const uid = seededId(t.id, 'u', 1 + ((i * 7919) % size));
      const r = await patch(gid, 'Remove', uid);
      const a = await patch(gid, 'Add', uid);
      if (i >= warm) { remove.push(r); add.push(a); }
    }
    p50[size] = { add: pct(add, 50), remove: pct(remove, 50) };
    rows.push({ name: `${size} members: Add one`, p50: pct(add, 50), p99: pct(add, 99) });
    rows.push({ name: `${size} members: Remove one`, p50: pct(remove, 50), p99: pct(remove, 99) });
  }
  const r = rss.stop();
  rows[rows.length - 1]!.rssMaxMb = r.maxMb;
  await srv.stop();

  const lo = sizes.groupSizes[0]!;
  const hi = sizes.groupSizes[sizes.groupSizes.length - 1]!;
  const verdicts: Verdict[] = (['add', 'remove'] as const).map((k) => {
    const v = p50[hi]![k] / p50[lo]![k];
    return { label: `${k} p50 ${hi} / ${lo} members`, value: v, target: '≤ 1.25', pass: v <= 1.25 };
  });
  return {
    id: 'group-patch',
    title: `Group PATCH add/remove one member (Entra shapes), sequential, ${sizes.patchIterations} of each per size`,
    rows, verdicts,
    notes: [`latencies measured by a sequential client (one request in flight); big tenant: ${sizes.bigUsers} users, ${sizes.bigGroups} groups, ${sizes.bigUsers * sizes.bigPerUser} background memberships`],
  };
}
