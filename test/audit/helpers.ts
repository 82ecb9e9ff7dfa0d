import assert from 'node:assert/strict';

/** Polls until fn gives a value (refusals are recorded just after their answer). */
export async function eventually<T>(fn: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail('not recorded in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
