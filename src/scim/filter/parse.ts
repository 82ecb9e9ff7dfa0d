/**
 * Hand-written parser for SCIM filters (RFC 7644 §3.4.2.2, Figure 1) and PATCH
 * paths (RFC 7644 §3.5.2):
 *
 *   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
 *   valuePath = attrPath "[" valFilter "]"
 *   attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
 *   attrPath  = [URI ":"] ATTRNAME *1subAttr
 *   PATH      = attrPath / valuePath [subAttr]
 *
 * Precedence: not > and > or; and/or are left-associative. Keywords and
 * operators are case-insensitive (ABNF literals are). Whitespace is accepted
 * wherever SP is required and, leniently, around brackets and parentheses.
 * Per erratum 4690, a value filter may not contain another value path.
 */
import { InvalidFilterError, InvalidPathError } from '../errors.js';
import type { AttrPath, CompareOp, FilterNode, Literal } from './ast.js';

/** Longest filter/path accepted, in UTF-8 bytes: bounds parse time and the size of generated SQL. */
export const MAX_FILTER_BYTES = 8 * 1024;
/** Deepest nesting of "(", "not (" and "[" accepted: bounds recursion everywhere downstream. */
export const MAX_FILTER_DEPTH = 32;

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ATTRNAME = /^[A-Za-z$][A-Za-z0-9_$-]*$/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// Characters of an attribute path token: ATTRNAME chars, "." for sub-attributes and ":" / "." inside URNs.
const PATH_CHAR = /[A-Za-z0-9._:$-]/;

type TokKind = 'word' | 'string' | 'number' | '(' | ')' | '[' | ']' | 'eof';
interface Token {
  kind: TokKind;
  /** Source text of the token (for messages). */
  text: string;
  /** Decoded value for string/number tokens. */
  value?: string | number;
  pos: number;
  /** Whether whitespace precedes the token (".sub" must follow "]" directly). */
  spaced: boolean;
}

type ErrorCtor = new (detail: string) => Error;

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of input';
  const text = t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text;
  return `token ${JSON.stringify(text)}`;
}

function tokenize(text: string, Err: ErrorCtor): Token[] {
  const out: Token[] = [];
  let i = 0;
  let spaced = false;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; spaced = true; continue; }
    const start = i;
    if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ kind: c, text: c, pos: start, spaced });
      i++;
    } else if (c === '"') {
      const [value, end] = readString(text, i, Err);
      out.push({ kind: 'string', text: text.slice(start, end), value, pos: start, spaced });
      i = end;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      const end = m ? i + m[0].length : i;
      // A number must end at a delimiter, so "12abc" or "1.2.3" is one bad token, not two.
      if (!m || (end < n && PATH_CHAR.test(text[end]!))) {
        let j = i;
        while (j < n && (PATH_CHAR.test(text[j]!) || text[j] === '+')) j++;
        throw new Err(`invalid number ${JSON.stringify(text.slice(i, j))} at position ${i}`);
      }
      out.push({ kind: 'number', text: m[0], value: Number(m[0]), pos: start, spaced });
      i = end;
    } else if (PATH_CHAR.test(c)) {
      while (i < n && PATH_CHAR.test(text[i]!)) i++;
      out.push({ kind: 'word', text: text.slice(start, i), pos: start, spaced });
    } else {
      throw new Err(`unexpected character ${JSON.stringify(c)} at position ${i}`);
    }
    spaced = false;
  }
  out.push({ kind: 'eof', text: '', pos: n, spaced });
  return out;
}

/** Decodes a JSON string literal starting at `start` (the opening quote); returns [value, index after closing quote]. */
function readString(text: string, start: number, Err: ErrorCtor): [string, number] {
  let i = start + 1;
  let out = '';
  let chunk = i;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return [out + text.slice(chunk, i), i + 1];
    if (code < 0x20) throw new Err(`control character in string at position ${i}; escape it`);
    if (code !== 0x5c) { i++; continue; }
    out += text.slice(chunk, i);
    const e = text[i + 1];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Err(`invalid \\u escape at position ${i}`);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        throw new Err(`invalid escape ${JSON.stringify('\\' + (e ?? ''))} in string at position ${i}`);
    }
    i += 2;
    chunk = i;
  }
  throw new Err(`unterminated string starting at position ${start}`);
}

/**
 * Splits one path token: the URN is everything up to the last ':' (attribute
 * names never contain ':'), the rest is ATTRNAME ["." ATTRNAME].
 */
function splitPath(text: string, pos: number, Err: ErrorCtor): AttrPath {
  const colon = text.lastIndexOf(':');
  const urn = colon >= 0 ? text.slice(0, colon) : undefined;
  const rest = colon >= 0 ? text.slice(colon + 1) : text;
  if (urn !== undefined && !/^urn:[A-Za-z0-9][A-Za-z0-9._:-]*$/i.test(urn)) {
    throw new Err(`invalid schema URN ${JSON.stringify(urn)} at position ${pos}`);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((p) => !ATTRNAME.test(p))) {
    throw new Err(`invalid attribute path ${JSON.stringify(text)} at position ${pos}`);
  }
  const path: AttrPath = { attr: parts[0]! };
  if (urn !== undefined) path.urn = urn;
  if (parts[1] !== undefined) path.sub = parts[1];
  return path;
}

function checkSize(text: string, what: string, Err: ErrorCtor): void {
  if (typeof text !== 'string') throw new Err(`${what} must be a string`);
  if (text.length > MAX_FILTER_BYTES || Buffer.byteLength(text, 'utf8') > MAX_FILTER_BYTES) {
    throw new Err(`${what} is longer than ${MAX_FILTER_BYTES} bytes`);
  }
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly Err: ErrorCtor) {}

  peek(offset = 0): Token {
    return this.toks[Math.min(this.i + offset, this.toks.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  fail(t: Token, expected: string): never {
    throw new this.Err(`unexpected ${describe(t)} at position ${t.pos}; expected ${expected}`);
  }
  private isKeyword(t: Token, kw: string): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === kw;
  }
  private enter(depth: number, t: Token): number {
    if (depth + 1 > MAX_FILTER_DEPTH) {
      throw new this.Err(`filter is nested deeper than ${MAX_FILTER_DEPTH} levels at position ${t.pos}`);
    }
    return depth + 1;
  }

  /** or-expression: lowest precedence, left-associative. */
  parseOr(depth: number, inValue: boolean): FilterNode {
    let left = this.parseAnd(depth, inValue);
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd(depth, inValue) };
    }
    return left;
  }

  parseAnd(depth: number, inValue: boolean): FilterNode {
    let left = this.parseUnary(depth, inValue);
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseUnary(depth, inValue) };
    }
    return left;
  }

  parseUnary(depth: number, inValue: boolean): FilterNode {
    const t = this.peek();
    if (t.kind === '(') {
      this.next();
      const inner = this.parseOr(this.enter(depth, t), inValue);
      this.expectClose(')');
      return inner;
    }
    if (this.isKeyword(t, 'not')) {
      const after = this.peek(1);
      if (after.kind === '(') {
        this.next();
        this.next();
        const inner = this.parseOr(this.enter(depth, t), inValue);
        this.expectClose(')');
        return { kind: 'not', filter: inner };
      }
      // "not" followed by an operator is an attribute called "not"; anything else is a missing "(".
      if (!(after.kind === 'word' && (COMPARE_OPS.has(after.text.toLowerCase()) || after.text.toLowerCase() === 'pr'))) {
        this.fail(after, '"(" after "not"');
      }
    }
    if (t.kind === 'word') return this.parseAttrExp(depth, inValue);
    return this.fail(t, 'an attribute path, "(" or "not"');
  }

  private expectClose(kind: ')' | ']'): void {
    const t = this.peek();
    if (t.kind !== kind) this.fail(t, `"and", "or" or "${kind}"`);
    this.next();
  }

  private parseAttrExp(depth: number, inValue: boolean): FilterNode {
    const pt = this.next();
    const path = splitPath(pt.text, pt.pos, this.Err);
    const t = this.peek();
    if (t.kind === '[') {
      if (inValue) throw new this.Err(`value path inside a value filter at position ${t.pos} is not allowed`);
      if (path.sub !== undefined) {
        throw new this.Err(`a value filter must follow a multi-valued attribute, not a sub-attribute, at position ${t.pos}`);
      }
      this.next();
      const filter = this.parseOr(this.enter(depth, t), true);
      this.expectClose(']');
      const after = this.peek();
      if (after.kind === 'word' && after.text.startsWith('.') && !after.spaced) {
        throw new this.Err(
          `sub-attribute after a value path at position ${after.pos} is not allowed in a filter; use ${path.attr}[…] with a condition on the sub-attribute instead`,
        );
      }
      return { kind: 'valuePath', path, filter };
    }
    if (t.kind !== 'word') return this.fail(t, 'a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr"');
    const op = t.text.toLowerCase();
    if (op === 'pr') {
      this.next();
      return { kind: 'present', path };
    }
    if (!COMPARE_OPS.has(op)) return this.fail(t, 'a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr"');
    this.next();
    return { kind: 'compare', path, op: op as CompareOp, value: this.parseValue() };
  }

  private parseValue(): Literal {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return t.value!;
    if (t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    return this.fail(t, 'a value (a "quoted string", a number, true, false or null)');
  }
}

/** Parses a SCIM filter expression. Throws InvalidFilterError naming the problem and its position. */
export function parseFilter(text: string): FilterNode {
  checkSize(text, 'filter', InvalidFilterError);
  const p = new Parser(tokenize(text, InvalidFilterError), InvalidFilterError);
  if (p.peek().kind === 'eof') throw new InvalidFilterError('filter is empty');
  const node = p.parseOr(0, false);
  const t = p.peek();
  if (t.kind !== 'eof') p.fail(t, '"and", "or" or end of filter');
  return node;
}

/** Parses `[URN:]attr[.sub]` (sortBy, attributes, excludedAttributes). Throws InvalidPathError. */
export function parseAttrPath(text: string): AttrPath {
  checkSize(text, 'attribute path', InvalidPathError);
  const s = text.trim();
  if (s === '') throw new InvalidPathError('attribute path is empty');
  const bad = /[^A-Za-z0-9._:$-]/.exec(s);
  if (bad) throw new InvalidPathError(`unexpected character ${JSON.stringify(bad[0])} in attribute path at position ${bad.index}`);
  return splitPath(s, 0, InvalidPathError);
}

export interface PatchPath {
  path: AttrPath;
  /** Value filter selecting elements of the multi-valued attribute `path`. */
  filter?: FilterNode;
  /** Sub-attribute after the value filter: `emails[type eq "work"].value` → "value". */
  sub?: string;
}

/**
 * Parses a PATCH operation path (RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]).
 * Every problem, including one inside the value filter, is an InvalidPathError.
 */
export function parsePatchPath(text: string): PatchPath {
  checkSize(text, 'path', InvalidPathError);
  const toks = tokenize(text, InvalidPathError);
  const p = new Parser(toks, InvalidPathError);
  const first = p.next();
  if (first.kind !== 'word') return p.fail(first, 'an attribute path');
  const path = splitPath(first.text, first.pos, InvalidPathError);
  const result: PatchPath = { path };
  if (p.peek().kind === '[') {
    const open = p.next();
    if (path.sub !== undefined) {
      throw new InvalidPathError(`a value filter must follow a multi-valued attribute, not a sub-attribute, at position ${open.pos}`);
    }
    result.filter = p.parseOr(1, true);
    const close = p.peek();
    if (close.kind !== ']') p.fail(close, '"and", "or" or "]"');
    p.next();
    const after = p.peek();
    if (after.kind === 'word' && after.text.startsWith('.') && !after.spaced) {
      p.next();
      const sub = after.text.slice(1);
      if (!ATTRNAME.test(sub)) throw new InvalidPathError(`invalid sub-attribute ${JSON.stringify(sub)} at position ${after.pos + 1}`);
      result.sub = sub;
    }
  }
  const end = p.peek();
  if (end.kind !== 'eof') p.fail(end, result.filter ? '".subAttribute" or end of path' : '"[" or end of path');
  return result;
}
