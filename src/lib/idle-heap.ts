import { setFlagsFromString } from 'node:v8';
import { Script, runInNewContext } from 'node:vm';
import { trimNativeHeap, type TrimResult } from './native-heap.js';

/**
 * Without this an idle server keeps its start-up garbage, a grown new space and a fragmented old
 * space (PostgreSQL: ~20 MB of 122 MB RSS; PGlite: ~24 MB), because V8's memory reducer, whose
 * compacting GCs give that back once a process stops allocating, never runs. In V8 13.6 (Node 24)
 * it starts a GC only when every allocation rate it samples is low, and it counts an embedder
 * (cppgc) rate that has never seen an allocation as exactly 0, which it reads as the highest rate:
 * "Memory reducer: high alloc" on every 8 s tick, forever (`--trace-memory-reducer`; only its 100 s
 * watchdog, which any major GC postpones, gets through). Node allocates on that heap only for
 * `node:vm` scripts and contexts, so compiling an empty `vm.Script` now and then (a cached compile:
 * microseconds) keeps that rate a small positive number, and the reducer works as designed: it
 * compacts after a quiet tick.
 */
export const EMBEDDER_TICK_MS = 30_000;

/**
 * The V8 line the embedder tick works around (13.x: Node 24); V8 14.6 (Node 26) does not need it.
 */
export const NEEDS_EMBEDDER_TICK = /^13\./.test(process.versions.v8);

/**
 * Right after start-up the reducer's ticks run every 8 s on a phase of their own, and the first one
 * after PGlite's WebAssembly tier-up still sees a busy process: it compacted 4 to 16 s after the
 * server answered, so an idle server's RSS depended on when it was read (PGlite: 171 before, 147
 * after). Instead the server compacts once itself, in the first second after start-up that uses
 * less than BUSY_SHARE of a core, with the GC V8 runs when memory is low (every page it can give
 * back goes back, the new space shrinks to its minimum), and then gives the C heap's free pages back
(native-heap.ts: where Node has `node:ffi`); a server that stays busy past
 * QUIET_DEADLINE_MS (a load from the first second) leaves it to the reducer.
 */
export const BUSY_SHARE = 0.25;
export const QUIET_DEADLINE_MS = 30_000;

/**
 * After start-up, the C heap's free pages are given back again whenever the process has used
 * TRIM_AFTER_CPU_MS of CPU since the last trim and then a TRIM_CHECK_MS window under BUSY_SHARE of a
 * core: compiler threads still finish work in the seconds after the start-up compaction (the trim
 * in the first quiet second left 145–162 MB on Node 26, a trim 10 s in 140–141), and a load leaves
 * its freed buffers in the arenas too. A trim takes 5–16 ms; an idle server reaches the CPU figure
 * in a minute or more, a busy one is never trimmed until it quiets down. Only where a trim can run.
 */
export const TRIM_CHECK_MS = 5_000;
export const TRIM_AFTER_CPU_MS = 100;

export interface IdleHeapOptions {
  /** Whether this V8 needs the embedder tick (NEEDS_EMBEDDER_TICK). */
  embedderTick?: boolean;
  /** The trim window (TRIM_CHECK_MS); tests shorten it. */
  trimCheckMs?: number;
}

export interface IdleHeap {
  /** Whether the start-up compaction has run. */
  readonly compacted: boolean;
  /** What the last trim of the C heap did (native-heap.ts); undefined until one ran. */
  readonly trim: TrimResult | undefined;
  /** Trims run so far (the one after the start-up compaction included). */
  readonly trims: number;
  stop(): void;
}

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's `gc()` with the "last-resort" flavour: CollectAllAvailableGarbage, the memory-reducing full
 * GC V8 runs on a low-memory notification, which Node does not expose otherwise. The function
 * comes from a fresh context (`--expose-gc` installs it there), so this process's own global stays
 * without `gc`; an operator's `--expose-gc` provides it directly.
 */
function lowMemoryGc(): Gc | undefined {
  const own = (globalThis as { gc?: Gc }).gc;
  if (own) return own;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as Gc;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** This process's CPU time (user + system, ms) since the meter's previous reading. */
function cpuMeter(): () => number {
  let last = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(last);
    last = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
}

/**
 * Starts the embedder tick, the start-up compaction and the trims; call it once start-up is done
 * (the server listens). Its timers are unref'd: they keep no process alive.
 */
export function reduceHeapWhenIdle(opts: IdleHeapOptions = {}): IdleHeap {
  const { embedderTick = NEEDS_EMBEDDER_TICK, trimCheckMs = TRIM_CHECK_MS } = opts;
  const tick = () => void new Script('');
  const ticker = embedderTick ? setInterval(tick, EMBEDDER_TICK_MS).unref() : undefined;
  if (embedderTick) tick();

  let compacted = false;
  let trim: TrimResult | undefined;
  let trims = 0;
  let trimmer: NodeJS.Timeout | undefined;
  const trimNow = () => {
    trim = trimNativeHeap();
    trims++;
  };
  const startTrimmer = () => {
    if (trim && !trim.trimmed) return; // this Node cannot trim: nothing to watch for
    const cpuMs = cpuMeter();
    let sinceTrimMs = 0;
    trimmer = setInterval(() => {
      const ms = cpuMs();
      sinceTrimMs += ms;
      if (ms >= BUSY_SHARE * trimCheckMs || sinceTrimMs < TRIM_AFTER_CPU_MS) return;
      sinceTrimMs = 0;
      trimNow();
      if (!trim?.trimmed) clearInterval(trimmer);
    }, trimCheckMs).unref();
  };

  const started = Date.now();
  const cpuMs = cpuMeter();
  const watch = setInterval(() => {
    if (cpuMs() < BUSY_SHARE * 1_000) {
      clearInterval(watch);
      const gc = lowMemoryGc();
      gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      compacted = gc !== undefined;
      trimNow();
      startTrimmer();
    } else if (Date.now() - started > QUIET_DEADLINE_MS) {
      clearInterval(watch);
      startTrimmer();
    }
  }, 1_000).unref();
  return {
    get compacted() { return compacted; },
    get trim() { return trim; },
    get trims() { return trims; },
    stop() {
      clearInterval(watch);
      if (trimmer) clearInterval(trimmer);
      if (ticker) clearInterval(ticker);
    },
  };
}
