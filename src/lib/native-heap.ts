/**
 * Gives the C heap's free pages back to the system once (glibc's `malloc_trim(0)`), through Node's
 * `node:ffi` where this Node has it (Node 26; not Node 24).
 *
 * Why: on Node 26 a PGlite server's idle RSS varied by ~20 MB between identical starts (147–172 MB).
 * The varying part is malloc memory: V8's compiler threads build PGlite's WebAssembly and the
 * server's hot JavaScript in zones taken from glibc's per-thread arenas and free them after, and an
 * arena keeps freed pages that are not at its top. `malloc_trim(0)` walks every arena and returns
 * each whole free page (`MADV_DONTNEED`): 140–141 MB in every run after it, for 5–16 ms once.
 *
 * Safety: the one symbol called is `malloc_trim(size_t)` from the process image, with a constant
 * argument; nothing else of FFI is used. Where it cannot run — Node without `node:ffi`, a libc
 * without `malloc_trim` (musl), `--no-experimental-ffi`, the permission model without
 * `--allow-ffi` — this does nothing and says why.
 */

/** What a trim did: `trimmed` when `malloc_trim` ran; otherwise the reason it could not. */
export type TrimResult = { trimmed: true; released: boolean } | { trimmed: false; reason: string };

interface FfiModule {
  dlopen(path: null, definitions: { malloc_trim: { arguments: ['u64']; return: 'i32' } }): {
    lib: { close(): void };
    functions: { malloc_trim(pad: bigint): number };
  };
}

/**
 * `node:ffi`, or undefined where this Node has none. Loading it emits an ExperimentalWarning on
 * stderr; that one warning is dropped while it loads (an operator's log would otherwise show an FFI
 * warning for a call the server makes itself), every other warning passes on.
 */
function loadFfi(): FfiModule | undefined {
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'ExperimentalWarning' && String(warning).startsWith('FFI ')) return;
    return (emit as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return process.getBuiltinModule('node:ffi') as FfiModule | undefined;
  } finally {
    process.emitWarning = emit;
  }
}

/** Runs `malloc_trim(0)` once; never throws. */
export function trimNativeHeap(ffi: FfiModule | undefined = loadFfi()): TrimResult {
  if (!ffi) return { trimmed: false, reason: 'this Node has no node:ffi' };
  try {
    const { lib, functions } = ffi.dlopen(null, { malloc_trim: { arguments: ['u64'], return: 'i32' } });
    try {
      // 1 when memory went back to the system, 0 when there was none to give.
      return { trimmed: true, released: functions.malloc_trim(0n) === 1 };
    } finally {
      lib.close();
    }
  } catch (err) {
    return { trimmed: false, reason: (err as Error).message };
  }
}
