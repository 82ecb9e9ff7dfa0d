// Opt-in preload for the server under test: BENCH_SERVER_NODE_ARGS="--import ./bench/lib/memory-sampler.mjs"
// with BENCH_MEM_DIR=<dir> appends process.memoryUsage() and V8's heap spaces (size/used MB), once a
// second, to <dir>/<pid>.jsonl — where a max RSS comes from (heap, new space, external, malloc).
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const dir = process.env.BENCH_MEM_DIR;
if (dir) {
  const file = `${dir}/${process.pid}.jsonl`;
  const mb = (n) => Math.round(n / 1048576);
  const t0 = Date.now();
  setInterval(() => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, [mb(s.space_size), mb(s.space_used_size)]]));
    appendFileSync(file, `${JSON.stringify({
      s: Math.round((Date.now() - t0) / 1000), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed),
      external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), malloced: mb(getHeapStatistics().malloced_memory), spaces,
    })}\n`);
  }, 1000).unref();
}
