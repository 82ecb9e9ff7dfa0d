/**
 * Okta's import: walk every page of the 1M-user tenant (GET /Users?startIndex=…&count=100,
 * sequential, first page to last), then the same walk by RFC 9865 cursor (cursor= … nextCursor),
 * then a filtered walk (filter=userName sw "user", the first 100 pages) on the 100k-user tenant.
 * Every page's status, size and totalResults are checked (exact, and the same all through a walk);
 * reported: p50/p99 per page, the walk's time, the server's CPU per page (with the load average)
 * and its max RSS.
 */
import { loadAvg, startIdpbridge } from '../lib/proc.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

interface Walk { ms: number[]; seconds: number; bad: number; totals: Set<number>; cpuMs?: number; load?: number }

async function walk(next: (i: number) => Promise<{ ok: boolean; total: number; more: boolean }>, maxPages: number): Promise<Walk> {
  const ms: number[] = [];
  const totals = new Set<number>();
  let bad = 0;
  const t0 = performance.now();
  for (let i = 0; i < maxPages; i++) {
    const s = performance.now();
    const r = await next(i);
    ms.push(performance.now() - s);
    totals.add(r.total);
    if (!r.ok) bad++;
    if (!r.more) break;
  }
  return { ms, seconds: (performance.now() - t0) / 1000, bad, totals };
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes } = ctx;
  const t = ctx.tenants.list!;
  const big = ctx.tenants.big;
  const total = sizes.listUsers;
  // BENCH_LIST_PAGES caps the walks (a before/after run against a build that cannot walk them all).
  const pages = Math.min(Math.ceil(total / 100), Number(process.env.BENCH_LIST_PAGES) || Infinity);
  const srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  const rss = srv.sampleRss();
  const get = async (tenant: typeof t, path: string) => {
    const r = await fetch(`${srv.url}${tenant.scimBase}${path}`, { headers: { authorization: `Bearer ${tenant.token}` } });
    return { status: r.status, body: (await r.json()) as { totalResults: number; Resources: unknown[]; nextCursor?: string } };
  };

  // Server CPU per page: robust to other work on the machine, unlike the wall-clock percentiles.
  const measured = async (w: () => Promise<Walk>): Promise<Walk> => {
    const cpu0 = srv.cpuSeconds();
    const r = await w();
    return { ...r, cpuMs: ((srv.cpuSeconds() - cpu0) * 1000) / r.ms.length, load: loadAvg() };
  };
  ctx.log(`list-1m: walking ${pages} pages by startIndex`);
  const byIndex = await measured(() => walk(async (p) => {
    const { status, body } = await get(t, `/Users?startIndex=${p * 100 + 1}&count=100`);
    const want = Math.min(100, total - p * 100);
    return { ok: status === 200 && body.totalResults === total && body.Resources.length === want, total: body.totalResults, more: p + 1 < pages };
  }, pages));

  ctx.log(`list-1m: walking ${pages} pages by cursor`);
  let cursor = '';
  const byCursor = await measured(() => walk(async (p) => {
    const { status, body } = await get(t, `/Users?cursor=${encodeURIComponent(cursor)}&count=100`);
    const want = Math.min(100, total - p * 100);
    cursor = body.nextCursor ?? '';
    return { ok: status === 200 && body.totalResults === total && body.Resources.length === want && (p + 1 < Math.ceil(total / 100)) === !!body.nextCursor, total: body.totalResults, more: !!body.nextCursor && p + 1 < pages };
  }, pages + 1));

  const filterPages = 100;
  const filter = encodeURIComponent('userName sw "user"');
  const filtered = await measured(() => walk(async (p) => {
    const { status, body } = await get(big, `/Users?filter=${filter}&startIndex=${p * 100 + 1}&count=100`);
    return { ok: status === 200 && body.totalResults === sizes.bigUsers && body.Resources.length === 100, total: body.totalResults, more: true };
  }, Math.min(filterPages, Math.floor(sizes.bigUsers / 100))));

  const r = rss.stop();
  await srv.stop();
  const row = (name: string, w: Walk) => ({ name, rps: Math.round(w.ms.length / w.seconds), p50: pct(w.ms, 50), p99: pct(w.ms, 99), rssMaxMb: r.maxMb, cpuMsPerReq: w.cpuMs, loadAvg: w.load });
  const consistent = (w: Walk) => w.bad === 0 && w.totals.size === 1;
  const notes = [
    `startIndex: ${byIndex.ms.length} pages in ${byIndex.seconds.toFixed(1)} s (max page ${Math.max(...byIndex.ms).toFixed(1)} ms); cursor: ${byCursor.ms.length} pages in ${byCursor.seconds.toFixed(1)} s (max ${Math.max(...byCursor.ms).toFixed(1)} ms); filtered (userName sw "user" on the ${sizes.bigUsers.toLocaleString('en')}-user tenant): ${filtered.ms.length} pages, first page ${filtered.ms[0]!.toFixed(1)} ms`,
    `totalResults per walk: ${[byIndex, byCursor, filtered].map((w) => [...w.totals].join('/')).join('; ')}; server max RSS ${r.maxMb} MB`,
  ];
  for (const [name, w] of [['startIndex', byIndex], ['cursor', byCursor], ['filtered', filtered]] as const) {
    if (w.bad) notes.push(`${name}: ${w.bad} pages had a wrong status, totalResults or size`);
  }
  return {
    id: 'list-1m',
    title: `List ${total.toLocaleString('en')} users in pages of 100, every page (sequential, as Okta's import)`,
    rows: [
      row(`idpbridge, startIndex, all ${byIndex.ms.length} pages`, byIndex),
      row(`idpbridge, cursor (RFC 9865), all ${byCursor.ms.length} pages`, byCursor),
      row(`idpbridge, filter + startIndex, ${sizes.bigUsers.toLocaleString('en')}-user tenant, first ${filtered.ms.length} pages`, filtered),
    ],
    verdicts: [
      { label: 'startIndex walk: p99 per page (ms)', value: pct(byIndex.ms, 99), target: '≤ 20', pass: pct(byIndex.ms, 99) <= 20 && consistent(byIndex) },
      { label: 'startIndex walk: whole walk (s)', value: Math.round(byIndex.seconds), target: '≤ 180', pass: byIndex.seconds <= 180 && consistent(byIndex) },
      { label: 'cursor walk: p99 per page (ms)', value: pct(byCursor.ms, 99), target: '≤ 20', pass: pct(byCursor.ms, 99) <= 20 && consistent(byCursor) },
      { label: 'cursor walk: whole walk (s)', value: Math.round(byCursor.seconds), target: '≤ 180', pass: byCursor.seconds <= 180 && consistent(byCursor) },
      { label: 'filtered walk: p99 per page (ms)', value: pct(filtered.ms, 99), target: '≤ 20', pass: pct(filtered.ms, 99) <= 20 && consistent(filtered) },
      { label: 'max server RSS (MB)', value: r.maxMb, target: '< 300', pass: r.maxMb < 300 },
    ],
    notes,
  };
}
