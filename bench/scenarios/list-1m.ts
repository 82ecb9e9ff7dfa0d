/**
 * List a 1M-user tenant in pages of 100 (GET /Users?startIndex=…&count=100), sequentially, keeping
 * the server's RSS < 300 MB. Deep OFFSET pages cost O(offset), so by default this walks the first
 * `listFirstPages` pages and then a sample of `listSamplePages` pages spread evenly over the whole
 * range (BENCH_LIST_FULL=1 walks every page), and extrapolates the full walk from the sample.
 */
import { startIdpbridge } from '../lib/proc.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes } = ctx;
  const t = ctx.tenants.list!;
  const total = sizes.listUsers;
  const pages = Math.ceil(total / 100);
  const full = process.env.BENCH_LIST_FULL === '1';
  const srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  const headers = { authorization: `Bearer ${t.token}` };
  const rssStart = srv.rss();
  const rss = srv.sampleRss();
  let bad = 0;
  const page = async (p: number): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(`${srv.url}${t.scimBase}/Users?startIndex=${p * 100 + 1}&count=100`, { headers });
    const body = (await r.json()) as { totalResults: number; Resources: unknown[] };
    const ms = performance.now() - t0;
    const want = Math.min(100, total - p * 100);
    if (r.status !== 200 || body.totalResults !== total || body.Resources.length !== want) bad++;
    return ms;
  };
  const first: number[] = [];
  const sample: number[] = [];
  const t0 = performance.now();
  if (full) {
    for (let p = 0; p < pages; p++) first.push(await page(p));
  } else {
    for (let p = 0; p < Math.min(pages, sizes.listFirstPages); p++) first.push(await page(p));
    const n = Math.min(pages, sizes.listSamplePages);
    for (let k = 0; k < n; k++) sample.push(await page(Math.floor((k * (pages - 1)) / Math.max(1, n - 1))));
  }
  const seconds = (performance.now() - t0) / 1000;
  const r = rss.stop();
  await srv.stop();
  const all = [...first, ...sample];
  const deepest = sample.length ? sample[sample.length - 1]! : first[first.length - 1]!;
  const estimate = full ? seconds : (sample.reduce((a, b) => a + b, 0) / sample.length) * pages / 1000;
  const notes = [
    full
      ? `walked all ${pages} pages in ${seconds.toFixed(1)} s`
      : `walked pages 1–${first.length} and ${sample.length} pages spread over all ${pages} (${all.length} requests, ${seconds.toFixed(1)} s); a full walk would take ≈ ${Math.round(estimate)} s at the sampled mean (${(estimate / pages * 1000).toFixed(1)} ms/page); BENCH_LIST_FULL=1 walks every page`,
    `latency: first pages p50 ${pct(first, 50)} ms; deepest page ${deepest.toFixed(1)} ms; RSS at start ${rssStart} MB, max ${r.maxMb} MB, end ${r.lastMb} MB`,
  ];
  if (bad) notes.push(`${bad} pages had a wrong status, totalResults or size`);
  return {
    id: 'list-1m',
    title: `List ${total.toLocaleString('en')} users in pages of 100 (sequential)`,
    rows: [
      { name: `idpbridge, first ${first.length} pages`, rps: Math.round(first.length / (first.reduce((a, b) => a + b, 0) / 1000)), p50: pct(first, 50), p99: pct(first, 99) },
      ...(sample.length ? [{ name: `idpbridge, ${sample.length} pages across the range`, rps: Math.round(sample.length / (sample.reduce((a, b) => a + b, 0) / 1000)), p50: pct(sample, 50), p99: pct(sample, 99), rssMaxMb: r.maxMb }] : []),
    ],
    verdicts: [{ label: 'max server RSS (MB)', value: r.maxMb, target: '< 300', pass: r.maxMb < 300 && bad === 0 }],
    notes,
  };
}
