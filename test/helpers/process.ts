import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Test servers reach loopback receivers and IdPs, and encrypt secrets with a fixed key (overridable per call). */
export const TEST_SERVER_ENV: Record<string, string> = {
  IDPBRIDGE_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8,::1,localhost',
  IDPBRIDGE_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
};

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `src/main.ts` as a real process on a free port; resolves once it listens. The deadline
 * catches a server that never starts; a first PGlite start (initdb and migrations in a child)
 * beside other test files on a loaded two-core machine has taken 30 s.
 */
export async function startServerProcess(env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...TEST_SERVER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const url = await new Promise<string>((resolve, reject) => {
    // A server that does not come up in time is killed: a caller that gives up must not leave it running.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(Object.assign(new Error(`server did not start in ${timeoutMs} ms:\n${out}`), { pid: child.pid }));
    }, timeoutMs);
    const check = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  return {
    child,
    url,
    output: () => out,
    kill: (signal = 'SIGTERM') => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    }),
  };
}

/** Runs the CLI (`src/cli.ts`) and collects its exit code and output. */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, ...TEST_SERVER_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `source` as an ES module in a fresh node (`nodeArgs`, then `--import tsx`; NODE_OPTIONS
 * empty, `env` added) and resolves with the JSON it wrote to stdout and its stderr; rejects with
 * its stderr when it exits non-zero.
 */
export function runModuleScript<T>(source: string, opts: { nodeArgs?: string[]; env?: Record<string, string | undefined> } = {}): Promise<{ out: T; stderr: string }> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => child.on('exit', (code) => {
    if (code !== 0) return reject(new Error(`exit ${code}: ${stderr}`));
    resolve({ out: JSON.parse(stdout) as T, stderr });
  }));
}
