import type { messages } from '@electric-sql/pglite';

/** A statement prepared under a name in the embedded backend. */
export interface Prepared {
  name: string;
  /** Type OIDs of the parameters, as the backend inferred them (they pick each value's serializer). */
  paramTypes: number[];
  /**
   * The columns of the answer (undefined: the statement returns no rows). A prepared statement's
   * result shape is fixed: after DDL that changes it, executing the statement fails
   * ("cached plan must not change result type") instead of answering other columns.
   */
  rows: messages.RowDescriptionMessage | undefined;
}

/** Longer texts (generated bulk statements) are prepared for one run and closed again. */
export const MAX_CACHED_SQL_LENGTH = 16_000;

/** Whether a statement is kept prepared after it ran: not when long, nor when it changes the schema. */
export const cacheable = (sql: string): boolean => sql.length <= MAX_CACHED_SQL_LENGTH && !changesSchema(sql);

/**
 * The named statements of one PGlite session, by SQL text, least recently used first. Each costs
 * backend memory (its plan) in a WebAssembly heap that never shrinks, so the set is bounded; the
 * hot statements of a server are a few dozen texts. A statement leaves the cache when it is
 * evicted, invalidated or cleared, and its name waits in `closing` until the next exchange closes
 * it in the backend. Names are never reused, so a name whose fate is uncertain (its Parse failed
 * mid-exchange) is simply closed: closing a name that does not exist is not an error.
 */
export class StatementCache {
  private readonly byText = new Map<string, Prepared>();
  private closing: string[] = [];
  private seq = 0;
  /** Counters for tests and diagnostics: executions that reused a statement, and Parse messages sent. */
  hits = 0;
  prepares = 0;

  constructor(readonly capacity = 128) {}

  get size(): number {
    return this.byText.size;
  }

  /** The prepared statement of this text, marked as just used. */
  get(sql: string): Prepared | undefined {
    const p = this.byText.get(sql);
    if (p) {
      this.byText.delete(sql);
      this.byText.set(sql, p);
      this.hits++;
    }
    return p;
  }

  /** A fresh statement name (no name is ever handed out twice), for a Parse about to be sent. */
  nextName(): string {
    this.prepares++;
    return `idpb_s${++this.seq}`;
  }

  /** Remembers a statement prepared under `p.name`; evicts the least recently used past capacity. */
  add(sql: string, p: Prepared): void {
    const old = this.byText.get(sql);
    if (old) this.closing.push(old.name);
    this.byText.delete(sql);
    this.byText.set(sql, p);
    if (this.byText.size > this.capacity) {
      const [oldestSql, oldest] = this.byText.entries().next().value!;
      this.byText.delete(oldestSql);
      this.closing.push(oldest.name);
    }
  }

  /** Forgets one statement (its execution failed in a way that says the statement is stale). */
  invalidate(sql: string): void {
    const p = this.byText.get(sql);
    if (!p) return;
    this.byText.delete(sql);
    this.closing.push(p.name);
  }

  /** A name to close that is not cached (a one-run statement, or a Parse that may not have happened). */
  discard(name: string): void {
    this.closing.push(name);
  }

  /** Forgets every statement (after DDL, or when the backend may have dropped them). */
  clear(): void {
    for (const p of this.byText.values()) this.closing.push(p.name);
    this.byText.clear();
  }

  /** The names to close in the backend, handed out once. */
  takeClosing(): string[] {
    if (this.closing.length === 0) return NONE;
    const names = this.closing;
    this.closing = [];
    return names;
  }
}

const NONE: string[] = [];

/**
 * Statements after which cached statements are dropped: schema changes, and commands that drop a
 * session's prepared statements. The backend re-plans a cached statement after DDL by itself, but
 * one whose result columns changed would fail once; dropping the cache instead costs a re-prepare.
 * A false positive (the word in a string literal) only costs that re-prepare too.
 */
const SCHEMA_CHANGE = /\b(CREATE|ALTER|DROP|TRUNCATE|DISCARD|DEALLOCATE|COMMENT|GRANT|REVOKE|REINDEX|CLUSTER|IMPORT)\b/i;

export const changesSchema = (sql: string): boolean => SCHEMA_CHANGE.test(sql);

/**
 * Errors that say a cached statement itself is stale rather than the statement's data being wrong:
 * its result shape changed under it (0A000, "cached plan must not change result type"), or the
 * backend no longer has it (26000, e.g. after DEALLOCATE ALL inside a function).
 */
export function isStaleStatementError(err: { code?: string | undefined; message: string }): boolean {
  return err.code === '26000' || (err.code === '0A000' && /cached plan must not change result type/.test(err.message));
}
