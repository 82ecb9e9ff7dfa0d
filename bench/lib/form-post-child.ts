/**
 * A load generator for single-use form posts (SAML responses): autocannon, 32 connections, each
 * request the next body of a file (one urlencoded body a line), so no body is sent twice. Runs a
 * fixed number of requests (warm-up, then the measured part) instead of a fixed time: the bodies
 * are made in advance and must not run out. Every answer must be a 303 whose Location carries
 * `token=` (a success), not `error=`; the others are counted as `failed`.
 *   env BENCH_FORM_LOAD = {"url","bodiesFile","connections","warmup","amount"}
 */
import { readFileSync } from 'node:fs';

type Autocannon = (o: object) => Promise<{
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number; timeouts: number; duration: number;
  statusCodeStats?: Record<string, { count: number }>;
}>;

export interface FormLoadSpec { url: string; bodiesFile: string; connections: number; warmup: number; amount: number }
export interface FormLoadResult {
  rps: number; total: number; p50: number; p99: number; errors: number; non2xx: number; failed: number;
  firstFailure: string | null; statusCodes: Record<string, number>; allRequests: number;
}

const spec = JSON.parse(process.env.BENCH_FORM_LOAD!) as FormLoadSpec;
const autocannon = ((await import('autocannon' as string)) as { default: Autocannon }).default;
const bodies = readFileSync(spec.bodiesFile, 'utf8').split('\n').filter(Boolean);
if (bodies.length < spec.warmup + spec.amount) throw new Error(`${bodies.length} bodies for ${spec.warmup + spec.amount} requests`);

let next = 0;
let failed = 0;
let firstFailure: string | null = null;

async function once(amount: number) {
  const t0 = performance.now();
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    amount,
    timeout: 30,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest: (req: object) => ({ ...req, body: bodies[next++] }),
      onResponse: (status: number, _body: unknown, _ctx: unknown, headers: Record<string, string>) => {
        const location = headers.location ?? headers.Location ?? '';
        if (status !== 303 || !/[?&]token=/.test(location)) {
          failed++;
          firstFailure ??= `${status} ${decodeURIComponent(location).slice(0, 300)}`;
        }
      },
    }],
  });
  const seconds = (performance.now() - t0) / 1000;
  const codes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  return {
    // A fixed amount: the rate is requests over the wall time of the run.
    rps: Math.round(r.requests.total / seconds), total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99,
    errors: r.errors + r.timeouts, non2xx: r.requests.total - (codes['303'] ?? 0), statusCodes: codes,
  };
}

const warm = spec.warmup > 0 ? (await once(spec.warmup)).total : 0;
failed = 0;
firstFailure = null;
const result = await once(spec.amount);
const out: FormLoadResult = { ...result, failed, firstFailure, allRequests: warm + result.total };
process.stdout.write(`${JSON.stringify(out)}\n`);
