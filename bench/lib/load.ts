import { join } from 'node:path';
import { BENCH_DIR, loadAvg, runChild, type Server } from './proc.js';

export interface LoadSpec {
  url: string;
  kind: 'static' | 'post-users' | 'get-filter';
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  warmupS: number;
  durationS: number;
  /** get-filter: look up user1…userN@bench.example at random. */
  users?: number;
}

export interface LoadResult {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** warm-up + measured requests (for CPU per request) */
  allRequests: number;
}

/** load() against `server`, also returning the server's CPU ms per request (robust to other load on the machine). */
export async function loadServer(server: Server, spec: LoadSpec): Promise<LoadResult & { cpuMsPerReq: number; rssMaxMb: number; loadAvg: number }> {
  const la = loadAvg();
  const c0 = server.cpuSeconds();
  const rss = server.sampleRss();
  const r = await load(spec);
  const cpu = server.cpuSeconds() - c0;
  return { ...r, cpuMsPerReq: Math.round((cpu * 1000 / Math.max(1, r.allRequests)) * 1000) / 1000, rssMaxMb: rss.stop().maxMb, loadAvg: la };
}

/** autocannon in its own process: warm-up, then the measured run. */
export function load(spec: LoadSpec): Promise<LoadResult> {
  return runChild<LoadResult>(join(BENCH_DIR, 'lib/load-child.ts'), [], { BENCH_LOAD: JSON.stringify(spec) });
}
