import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

/**
 * Without this an idle server keeps its start-up garbage, a grown new space and a fragmented old
 * space (PostgreSQL: ~20 MB of 122 MB RSS), because V8's memory reducer, whose compacting GCs give
 * that back once a process stops allocating, never runs. In V8 13.6 (Node 24) it starts a GC only
 * when every allocation rate it samples is low, and it counts an embedder (cppgc) rate that has
 * never seen an allocation as exactly 0, which it reads as the highest rate: "Memory reducer: high
 * alloc" on every 8 s tick, forever (`--trace-memory-reducer`; only its 100 s watchdog, which any major
 * GC postpones, gets through). Node allocates on that heap only for `node:vm` scripts and contexts,
 * so compiling an empty `vm.Script` now and then (a cached compile: microseconds) keeps that rate
 * a small positive number, and the reducer works as designed: it compacts after a quiet tick.
 */
export const EMBEDDER_TICK_MS = 30_000;

/**
 * Right after start-up the reducer still needs a quiet 8 s sample after the start-up burst: up to
 * 16 s. V8's memory saver mode makes its next tick compact whatever the rate. It is on from the
 * end of start-up until those GCs are done (two major GCs), the process gets busy (more than
 * BUSY_SHARE of a core in a second: a load must not run under it, it keeps the new space at 1 MB),
 * or this deadline, whichever comes first.
 */
export const SAVER_DEADLINE_MS = 20_000;
export const BUSY_SHARE = 0.25;
const SAVER_GCS = 2;

/**
 * The V8 line this works around (13.x: Node 24). On V8 14.6 (Node 26) switching the saver mode at
 * run time does not make the reducer compact (measured: the heap stays), so there it does nothing.
 */
export const WORKS_ON_THIS_V8 = /^13\./.test(process.versions.v8);

/** V8 flags of `argv` that decide the saver mode themselves: the operator's choice is kept. */
const OWN_SAVER = /^--(no-)?(memory[-_]saver[-_]mode|optimize[-_]for[-_]size)(=|$)/;

export interface IdleHeap {
  /** Whether the start-up saver mode is still on. */
  readonly saving: boolean;
  stop(): void;
}

/**
 * Starts both; call it once start-up is done (the server listens). Its timers are unref'd: they
 * keep no process alive.
 */
export function reduceHeapWhenIdle(
  execArgv: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)],
  v8Applies: boolean = WORKS_ON_THIS_V8,
): IdleHeap {
  if (!v8Applies) return { saving: false, stop: () => {} };
  const tick = () => void new Script('');
  tick();
  const ticker = setInterval(tick, EMBEDDER_TICK_MS).unref();

  let saving = !execArgv.some((a) => OWN_SAVER.test(a));
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (((e as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && ++majors >= SAVER_GCS) endSaving();
    }
  });
  const deadline = setTimeout(() => endSaving(), SAVER_DEADLINE_MS).unref();
  let cpu = process.cpuUsage();
  const busy = setInterval(() => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    if ((used.user + used.system) / 1e6 > BUSY_SHARE) endSaving();
  }, 1_000).unref();
  function endSaving() {
    if (saving) setFlagsFromString('--no-memory-saver-mode');
    saving = false;
    observer.disconnect();
    clearTimeout(deadline);
    clearInterval(busy);
  }
  if (saving) {
    setFlagsFromString('--memory-saver-mode');
    observer.observe({ entryTypes: ['gc'] });
  } else {
    endSaving();
  }
  return {
    get saving() { return saving; },
    stop() {
      endSaving();
      clearInterval(ticker);
    },
  };
}
