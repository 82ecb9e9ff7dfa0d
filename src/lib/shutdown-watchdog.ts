import { Worker } from 'node:worker_threads';

/**
 * Ends the process with SIGKILL after `ms` unless it has exited by then. It runs on a worker
 * thread with its own event loop, so it fires even when the main thread is stuck (a busy loop, a
 * blocked WebAssembly call) and a timer on the main thread never would. The worker is unref'd: a
 * process that finishes normally does not wait for it.
 */
export function startShutdownWatchdog(ms: number): Worker {
  const delay = Math.max(0, Math.floor(ms));
  // Dynamic import only: the source runs the same as CommonJS or as an ES module. The message is
  // written straight to fd 2 (a worker's process.stderr goes through the stuck main thread).
  const worker = new Worker(
    `import('node:fs').then((fs) => setTimeout(() => {
       try { fs.writeSync(2, 'idpbridge: shutdown did not finish in ${delay} ms; killing the process\\n'); } catch {}
       process.kill(process.pid, 'SIGKILL');
     }, ${delay}));`,
    { eval: true },
  );
  // A watchdog that cannot start must not take the shutdown down with it (the 10 s exit still holds).
  worker.on('error', () => {});
  worker.unref();
  return worker;
}
