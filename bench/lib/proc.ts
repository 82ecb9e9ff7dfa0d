/**
 * Child processes for the benchmark: servers (idpbridge, floors, peers) and the load generator.
 * Every server is its own `node` process (so its pid is the server's and /proc/<pid>/status is its RSS);
 * the load generator runs in yet another process, so the orchestrator never competes for the CPU.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH_DIR, '..');
export const ADMIN_TOKEN = 'idpb_admin_bench-operator-token-0123456789abcdef';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Server {
  name: string;
  proc: ChildProcess;
  url: string;
  pid: number;
  /** VmRSS in MB now (0 when the process is gone). */
  rss(): number;
  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number;
  /** Start/stop sampling VmRSS every 100 ms; returns the maximum seen since start. */
  sampleRss(): { stop(): { maxMb: number; lastMb: number } };
  output(): string;
  stop(): Promise<void>;
}

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** 1-minute load average: other work on the machine skews throughput; recorded with each scenario. */
export function loadAvg(): number {
  try { return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]); } catch { return NaN; }
}

/**
 * Starts `node [nodeArgs] script` with PORT set, and waits until `readyPath` answers (any status < 500).
 */
export async function startServer(opts: {
  name: string;
  script: string;
  nodeArgs?: string[];
  env?: Record<string, string | undefined>;
  readyPath?: string;
  timeoutMs?: number;
  cwd?: string;
}): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? ['--import', 'tsx']), opts.script], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString()).slice(-20_000); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let exited = false;
  proc.once('exit', () => { exited = true; });
  for (;;) {
    if (exited) throw new Error(`${opts.name} exited before it was ready:\n${out}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`${opts.name} not ready in time:\n${out}`); }
    try {
      const r = await fetch(`${url}${opts.readyPath ?? '/healthz'}`);
      await r.arrayBuffer();
      if (r.status < 500) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = proc.pid!;
  return {
    name: opts.name,
    proc,
    url,
    pid,
    rss: () => rssMb(pid),
    cpuSeconds: () => cpuSeconds(pid),
    sampleRss() {
      let max = rssMb(pid);
      let last = max;
      const t = setInterval(() => { last = rssMb(pid); if (last > max) max = last; }, 100);
      return { stop: () => { clearInterval(t); last = rssMb(pid) || last; if (last > max) max = last; return { maxMb: max, lastMb: last }; } };
    },
    output: () => out,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const force = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      proc.once('exit', () => { clearTimeout(force); resolve(); });
      proc.kill('SIGTERM');
    }),
  };
}

/** Compiles the server (`tsc -p tsconfig.build.json`, incremental) so dist/ is the code under test. */
export function buildServer(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * idpbridge itself, as operators run it (`npm start` = `node dist/main.js`; run.ts builds dist/
 * first). Not through tsx: its transpiler and esbuild's name helpers cost ~3% of a read's CPU.
 */
export function startIdpbridge(env: Record<string, string | undefined>, name = 'idpbridge'): Promise<Server> {
  return startServer({
    name,
    // BENCH_SERVER_SCRIPT: another build of idpbridge (a before/after comparison of one change).
    script: process.env.BENCH_SERVER_SCRIPT || join(ROOT, 'dist/main.js'),
    // BENCH_SERVER_NODE_ARGS: node/V8 options for the server, space-separated, to look into a figure
    // (e.g. `--trace-gc --trace-gc-nvp`, or `--import <file>` sampling process.memoryUsage()).
    nodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    env: {
      IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      // The bench's webhook receivers and IdPs run on loopback; secrets need a key on PostgreSQL.
      IDPBRIDGE_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8,::1',
      IDPBRIDGE_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'),
      ...env,
    },
  });
}

/** Runs a script to completion in its own process; resolves with the last JSON line it printed on stdout. */
export function runChild<T>(script: string, args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err = (err + d).slice(-20_000); });
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !line) return reject(new Error(`${script} exited with ${code}:\n${err}\n${out.slice(-4000)}`));
      resolve(JSON.parse(line) as T);
    });
  });
}
