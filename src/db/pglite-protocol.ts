import { parse, protocol, type messages } from '@electric-sql/pglite';
import type { QueryResult } from './types.js';

const { serialize } = protocol;

/**
 * Front-end messages of one exchange with the embedded backend. PGlite runs every message of a
 * buffer in one call into WebAssembly, so an exchange costs one crossing whatever it holds. Each
 * `sync()` or `simple()` ends one *part*: the backend answers ReadyForQuery after it, and an error
 * fails only the rest of its own part (the extended protocol skips to the next Sync).
 */
export class Exchange {
  private readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  parts = 0;

  private push(m: Uint8Array): this {
    this.chunks.push(m);
    this.bytes += m.byteLength;
    return this;
  }

  /** A simple-protocol statement (BEGIN, COMMIT, a script); a part of its own. */
  simple(sql: string): this {
    this.parts++;
    return this.push(serialize.query(sql));
  }

  /** Closes named statements, in a part of their own (none when there is nothing to close). */
  close(names: readonly string[]): this {
    if (names.length === 0) return this;
    for (const name of names) this.push(serialize.close({ type: 'S', name }));
    return this.sync();
  }

  prepare(name: string, sql: string): this {
    return this.push(serialize.parse({ name, text: sql })).push(serialize.describe({ type: 'S', name }));
  }

  execute(name: string, values: (string | null)[]): this {
    return this.push(serialize.bind({ statement: name, values })).push(serialize.execute());
  }

  sync(): this {
    this.parts++;
    return this.push(serialize.sync());
  }

  message(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

/** The backend's answer, cut into the parts of its exchange (each ends with ReadyForQuery). */
export function splitParts(answer: readonly messages.BackendMessage[]): messages.BackendMessage[][] {
  const parts: messages.BackendMessage[][] = [];
  let current: messages.BackendMessage[] = [];
  for (const m of answer) {
    if (m.name === 'readyForQuery') {
      parts.push(current);
      current = [];
    } else {
      current.push(m);
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** The error that failed a part, if any. */
export function errorOf(part: readonly messages.BackendMessage[] | undefined): messages.DatabaseError | undefined {
  return part?.find((m): m is messages.DatabaseError => m.name === 'error');
}

/** The command tag of a simple statement's part ("COMMIT", or "ROLLBACK" for a failed transaction). */
export function commandOf(part: readonly messages.BackendMessage[] | undefined): string | undefined {
  const done = part?.find((m): m is messages.CommandCompleteMessage => m.name === 'commandComplete');
  return done?.text;
}

/** What `describe` says of a statement being prepared: its parameter types and result columns. */
export function describedOf(part: readonly messages.BackendMessage[]): { paramTypes: number[]; rows: messages.RowDescriptionMessage | undefined } {
  let paramTypes: number[] = [];
  let rows: messages.RowDescriptionMessage | undefined;
  for (const m of part) {
    if (m.name === 'parameterDescription') paramTypes = (m as messages.ParameterDescriptionMessage).dataTypeIDs;
    else if (m.name === 'rowDescription') rows = m as messages.RowDescriptionMessage;
  }
  return { paramTypes, rows };
}

type Serializers = Record<number | string, (x: any) => string>;
type Parsers = Record<number | string, (x: string, typeId?: number) => any>;

/** Parameter values as PGlite's own `query` writes them: by the parameter's type, nulls as NULL. */
export function serializeParams(params: readonly unknown[], paramTypes: readonly number[], serializers: Serializers): (string | null)[] {
  return params.map((param, i) => {
    if (param === null || param === undefined) return null;
    const serialize = serializers[paramTypes[i]!];
    return serialize ? serialize(param) : (param as { toString(): string }).toString();
  });
}

/**
 * A statement's part as a result, parsed as PGlite's own `query` parses it (same parsers, so
 * timestamps, json, arrays and bytea come out alike). The row description was read when the
 * statement was prepared; the part holds the rows and the command tag.
 */
export function resultOf<T>(part: messages.BackendMessage[], rows: messages.RowDescriptionMessage | undefined, parsers: Parsers): QueryResult<T> {
  const res = parse.parseResults(rows ? [rows, ...part] : part, parsers)[0]!;
  // PGlite reports affectedRows = 0 for SELECT; pg reports the row count.
  return { rows: res.rows as T[], rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
}
