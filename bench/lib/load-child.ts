/**
 * The load generator's process: autocannon, warm-up then a measured run, one JSON line on stdout.
 * Started by lib/load.ts with the spec in BENCH_LOAD (JSON); request bodies and paths that must vary
 * per request (unique userNames, random lookups) are generated here, per `kind`.
 */
import { randomBytes } from 'node:crypto';
import type { LoadSpec, LoadResult } from './load.js';
import { userBody } from './bodies.js';

type Req = { method?: string; path?: string; body?: string; headers?: Record<string, string> };
type Autocannon = (o: object) => Promise<{
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number; timeouts: number; non2xx: number; duration: number;
  statusCodeStats?: Record<string, { count: number }>;
}>;

const spec = JSON.parse(process.env.BENCH_LOAD!) as LoadSpec;
// autocannon ships no type declarations: typed here by what this file uses.
const autocannon = ((await import('autocannon' as string)) as { default: Autocannon }).default;

const url = new URL(spec.url);
const run = randomBytes(4).toString('hex');
let n = 0;

function setup(): (req: Req) => Req {
  switch (spec.kind) {
    case 'post-users':
      return (req) => ({ ...req, body: userBody(`load-${run}-${n++}@bench.example`, n) });
    case 'get-filter': {
      const count = spec.users ?? 1000;
      const base = url.pathname;
      return (req) => {
        const i = 1 + Math.floor(Math.random() * count);
        return { ...req, path: `${base}?filter=${encodeURIComponent(`userName eq "user${i}@bench.example"`)}` };
      };
    }
    default:
      return (req) => req;
  }
}

async function once(duration: number): Promise<Omit<LoadResult, 'allRequests'>> {
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration,
    timeout: 30,
    requests: [{
      method: spec.method ?? 'GET',
      headers: { 'content-type': 'application/scim+json', ...(spec.headers ?? {}) },
      ...(spec.body ? { body: spec.body } : {}),
      setupRequest: setup(),
    }],
  });
  const codes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  return {
    rps: Math.round(r.requests.average),
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    statusCodes: codes,
  };
}

const warm = spec.warmupS > 0 ? (await once(spec.warmupS)).total : 0;
const result = await once(spec.durationS);
process.stdout.write(`${JSON.stringify({ ...result, allRequests: warm + result.total })}\n`);
