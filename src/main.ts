// The server's modules are imported in serve(), not here: the entry point below may first replace
// the process (withMemorySettings) and must not have loaded them for nothing.
import { flushUnusedBytecodeSooner, turnOffPretenuring } from './lib/heap-flags.js';

/**
 * glibc's malloc returns freed memory at the top of its heaps to the OS only above a trim
 * threshold that it raises, for good, to twice the largest block it ever freed from a mapping of
 * its own. V8's compilers (PGlite's WebAssembly is compiled after start-up) free such blocks, and
 * the server then keeps ~50-80 MB idle and ~100 MB after a load that it no longer uses. The default
 * threshold, fixed, stops that, for 1-3 % more CPU per request (docs/operator.md).
 */
export const MALLOC_TUNABLES = 'glibc.malloc.trim_threshold=131072';
/**
 * V8's new space grows to 64 MB (two 32 MB semi-spaces) under load and keeps its pages; with 8 MB
 * semi-spaces it stays at 16 MB, and the server holds ~100 MB less under the POST load for no more
 * CPU per request (a request's objects die young: scavenging them is cheap). Only a flag at
 * start-up sets it (v8.setFlagsFromString later has no effect).
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size=8';

/**
 * Restarts this process in place (same pid, arguments and file descriptors) with MALLOC_TUNABLES
 * (Linux) and SEMI_SPACE_FLAG, which take effect only when a process starts. What the operator set
 * is kept: GLIBC_TUNABLES (empty to opt out), --max-semi-space-size in the node flags or NODE_OPTIONS.
 */
export function withMemorySettings(): void {
  const tunables = process.platform === 'linux' && process.env.GLIBC_TUNABLES === undefined;
  const semiSpace = ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
  if ((!tunables && !semiSpace) || process.platform === 'win32' || typeof process.execve !== 'function') return;
  process.execve(
    process.execPath,
    [process.execPath, ...(semiSpace ? [SEMI_SPACE_FLAG] : []), ...process.execArgv, ...process.argv.slice(1)],
    { ...process.env, ...(tunables ? { GLIBC_TUNABLES: MALLOC_TUNABLES } : {}) },
  );
}

/** `npm start` / `idpbridge serve`: serve until SIGTERM/SIGINT, then drain and close. */
export async function serve(): Promise<void> {
  turnOffPretenuring(); // before the first query: pg's rows arrays must not be born old (src/lib/heap-flags.ts)
  flushUnusedBytecodeSooner(); // start-up code's bytecode goes once it has not run for two major GCs
  const [{ loadConfig }, { buildApp }, { startShutdownWatchdog }, { stdoutLogDestination }, { reduceHeapWhenIdle }] = await Promise.all([
    import('./config.js'), import('./app.js'), import('./lib/shutdown-watchdog.js'), import('./logger.js'), import('./lib/idle-heap.js'),
  ]);
  const config = loadConfig();
  const log = stdoutLogDestination();
  const { app, generatedAdminToken } = await buildApp({ config, loggerStream: log.stream });
  if (generatedAdminToken) {
    // Printed once, to the terminal only (never through the logger); only its hash is stored.
    process.stderr.write(
      `\nGenerated operator token (shown once; set IDPBRIDGE_ADMIN_TOKEN to choose your own):\n  ${generatedAdminToken}\n\n`,
    );
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Log lines stdout cannot take within 5 s are dropped: an unread stdout must not keep us alive.
    log.giveUpAfter(5_000);
    // Two deadlines: after 10 s the main thread exits with 1; if it is stuck and cannot run that
    // timer, a watchdog thread kills the process at 13 s. Either way it is gone within 15 s.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    startShutdownWatchdog(13_000);
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  // Start-up is done: what it allocated is garbage now, and V8 gives it back (src/lib/idle-heap.ts).
  reduceHeapWhenIdle();
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  withMemorySettings();
  serve().catch((err: Error) => {
    process.stderr.write(`idpbridge: ${err.message}\n`);
    process.exit(1);
  });
}
