/** A request the fuzz campaign (scripts/fuzz.ts) found failing, kept to be replayed by fuzz-fixtures.test.ts. */
export interface FuzzFixture {
  /** The day it was found. */
  found: string;
  /** fast-check seed of its batch and its index in the batch (`npm run fuzz -- --seed …`). */
  seed: number;
  index: number;
  /** What went wrong then (route, status or error log message). */
  problem: string;
  /**
   * The request. `{tenant}`, `{user}`, `{group}`, `{scimToken}`, `{adminToken}` and `{apiKey}` (or
   * `{tenant:upper}` …) stand for the ids and credentials of the replaying test; the body is `text`
   * or raw bytes in `base64`.
   */
  request: { method: string; path: string; headers?: Record<string, string>; text?: string; base64?: string };
}
