/** Embedded PGlite (no DATABASE_URL): POST /Users, 32 concurrent (target ≥ 2,000/s). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdpbridge } from '../lib/proc.js';
import { loadServer } from '../lib/load.js';
import { createTenant } from '../lib/db.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes } = ctx;
  const dir = mkdtempSync(join(tmpdir(), 'idpb-bench-pglite-'));
  try {
    const srv = await startIdpbridge({ DATABASE_URL: '', IDPBRIDGE_DATA_DIR: dir });
    const tenant = await createTenant(srv, 'bench pglite');
    const r = await loadServer(srv, {
      kind: 'post-users', method: 'POST', connections: sizes.connections, warmupS: sizes.warmupS, durationS: sizes.durationS,
      url: `${srv.url}${tenant.scimBase}/Users`, headers: { authorization: `Bearer ${tenant.token}` },
    });
    await srv.stop();
    return {
      id: 'pglite-post-users',
      title: `Embedded PGlite: POST /Users, ${sizes.connections} concurrent`,
      rows: [{ name: 'idpbridge on PGlite', rps: r.rps, p50: r.p50, p99: r.p99, rssMaxMb: r.rssMaxMb, cpuMsPerReq: r.cpuMsPerReq, loadAvg: r.loadAvg, errors: r.errors, non2xx: r.non2xx }],
      verdicts: [{ label: 'requests/s', value: r.rps, target: '≥ 2000', pass: r.rps >= 2000 }],
      notes: r.non2xx || r.errors ? [`status codes: ${JSON.stringify(r.statusCodes)}`] : [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
