import { setFlagsFromString } from 'node:v8';

/**
 * Issue 21: the 1M-user walk's server RSS was 390–435 MB for every build since round one (the
 * 285/303 MB of two older builds were lucky runs). V8 decides to allocate an object literal's
 * objects in the old generation ("pretenuring") once they outlive a scavenge of a full-size new
 * space; a burst of queries does that for `pg`'s result rows array (`this.rows = []`). From then on
 * every query's rows array is born old, and each row pushed into it is kept by it through every
 * scavenge and promoted, though the array dies with its request: on a page walk 8.5 MB of rows were
 * promoted per scavenge and the old generation swung between 40 and 200 MB until mark-compacts,
 * for good. A server's per-request objects are short-lived, which is what the new space is for.
 *
 * V8 reads the flag at each decision, so setting it after start works (unlike the new space's
 * size, src/main.ts): no restart is needed for it.
 */
export const PRETENURING_OFF = '--no-allocation-site-pretenuring';

/** The flag's name as V8 reads it: `--allocation_site_pretenuring` and `--no-allocation-site-pretenuring` are one flag. */
const flagName = (arg: string) => arg.replace(/^--(no-)?/, '').split('=')[0]!.replace(/_/g, '-');

/**
 * Turns pretenuring off in this process, before its first query (src/main.ts#serve), unless the
 * node command line already decides it either way (an operator's `--allocation-site-pretenuring`
 * wins; NODE_OPTIONS cannot carry it). True when it set the flag.
 */
export function turnOffPretenuring(execArgv: readonly string[] = process.execArgv): boolean {
  return setUnlessChosen(PRETENURING_OFF, [flagName(PRETENURING_OFF)], execArgv);
}

/** Sets `flag` unless the node command line sets one of the flags `names` already (the operator's choice). */
function setUnlessChosen(flag: string, names: readonly string[], execArgv: readonly string[]): boolean {
  if (execArgv.some((a) => a.startsWith('--') && names.includes(flagName(a)))) return false;
  setFlagsFromString(flag);
  return true;
}

/**
 * V8 drops the bytecode of a function that has not run for this many major GCs (its default: 6);
 * the function compiles again if it ever runs. A started server keeps the bytecode of its start-up
 * code (route and schema set-up, migrations, module bodies) though that code never runs again, and
 * an idle server sees few major GCs: at 2 its heap is ~2 MB smaller (29.3 instead of 30.5-31.8 MB
 * used, 15 s after start on PGlite). Functions that serve requests run between any two GCs and keep
 * theirs. Read at each GC, so setting it after start works.
 */
export const BYTECODE_OLD_AGE = '--bytecode-old-age=2';

/**
 * Sets BYTECODE_OLD_AGE in this process (src/main.ts#serve) unless the node command line sets the
 * age or turns flushing off (an operator's choice wins). True when it set the flag.
 */
export function flushUnusedBytecodeSooner(execArgv: readonly string[] = process.execArgv): boolean {
  return setUnlessChosen(BYTECODE_OLD_AGE, [flagName(BYTECODE_OLD_AGE), 'flush-bytecode'], execArgv);
}
