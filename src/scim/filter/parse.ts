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
 *
 * Leniencies for real clients (Microsoft's tutorial and Postman collection):
 *  - an unquoted compValue (`externalId eq jyoung`, `meta.created gt
 *    2015-10-10T14:38:21.8617979-07:00`) is read as a bare word up to
 *    whitespace, ")" or "]"; it is a string unless it is exactly a JSON number,
 *    true, false or null;
 *  - `valuePath "." subAttr (compareOp compValue / "pr")` in a filter
 *    (`emails[type eq "work"].value eq "x"`) means
 *    `emails[type eq "work" and value eq "x"]` and parses to that AST.
 */
import { InvalidFilterError, InvalidPathError } from '../errors.js';
import type { AttrPath, CompareOp, FilterNode, Literal } from './ast.js';
import { FilterBudget } from './cost.js';

/** Longest filter/path accepted, in UTF-8 bytes: bounds parse time and the size of generated SQL. */
export const MAX_FILTER_BYTES = 8 * 1024;
/** Deepest nesting of "(", "not (" and "[" accepted: bounds recursion everywhere downstream. */
export const MAX_FILTER_DEPTH = 32;

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ATTRNAME = /^[A-Za-z$][A-Za-z0-9_$-]*$/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// Characters of an attribute path token: ATTRNAME chars, "." for sub-attributes and ":" / "." inside URNs.
const PATH_CHAR = /[A-Za-z0-9._:$-]/;

/** `bare` is an unquoted comparison value (only read in compValue position). */
type TokKind = 'word' | 'bare' | 'string' | 'number' | '(' | ')' | '[' | ']' | 'eof';
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

const NUMBER_TEXT = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * On-demand tokenizer: the parser asks for the next token, so a comparison
 * value can be read differently (bare words) from the rest of the filter.
 */
class Lexer {
  private i = 0;
  constructor(private readonly text: string, private readonly Err: ErrorCtor) {}

  /** Moves back to `pos` (the start of a token already read but not consumed). */
  rewind(pos: number): void {
    this.i = pos;
  }

  /** Skips whitespace; returns whether there was any. */
  private skipSpace(): boolean {
    const start = this.i;
    while (this.i < this.text.length && isSpace(this.text[this.i]!)) this.i++;
    return this.i > start;
  }

  /** A token in ordinary filter/path context. */
  token(): Token {
    const { text, Err } = this;
    const n = text.length;
    const spaced = this.skipSpace();
    const start = this.i;
    if (start >= n) return { kind: 'eof', text: '', pos: n, spaced };
    const c = text[start]!;
    if (c === '(' || c === ')' || c === '[' || c === ']') {
      this.i++;
      return { kind: c, text: c, pos: start, spaced };
    }
    if (c === '"') {
      const [value, end] = readString(text, start, Err);
      this.i = end;
      return { kind: 'string', text: text.slice(start, end), value, pos: start, spaced };
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = start;
      const m = NUMBER.exec(text);
      const end = m ? start + m[0].length : start;
      // A number must end at a delimiter, so "12abc" or "1.2.3" is one bad token, not two.
      if (!m || (end < n && PATH_CHAR.test(text[end]!))) {
        let j = start;
        while (j < n && (PATH_CHAR.test(text[j]!) || text[j] === '+')) j++;
        throw new Err(`invalid number ${JSON.stringify(text.slice(start, j))} at position ${start}`);
      }
      this.i = end;
      return { kind: 'number', text: m[0], value: Number(m[0]), pos: start, spaced };
    }
    if (PATH_CHAR.test(c)) {
      let j = start;
      while (j < n && PATH_CHAR.test(text[j]!)) j++;
      this.i = j;
      return { kind: 'word', text: text.slice(start, j), pos: start, spaced };
    }
    throw new Err(`unexpected character ${JSON.stringify(c)} at position ${start}`);
  }

  /**
   * A token in compValue position: a JSON string, or (leniently) a bare word
   * running to whitespace, ")" or "]". Bare words are classified by the parser.
   */
  valueToken(): Token {
    const { text, Err } = this;
    const n = text.length;
    const spaced = this.skipSpace();
    const start = this.i;
    if (start >= n) return { kind: 'eof', text: '', pos: n, spaced };
    const c = text[start]!;
    if (c === '"' || c === '(' || c === ')' || c === '[' || c === ']') return this.token();
    let j = start;
    while (j < n) {
      const d = text[j]!;
      if (isSpace(d) || d === ')' || d === ']') break;
      if (d.charCodeAt(0) < 0x20 || d === '\x7f') throw new Err(`control character in value at position ${j}; quote and escape it`);
      j++;
    }
    this.i = j;
    return { kind: 'bare', text: text.slice(start, j), pos: start, spaced };
  }
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
  /** Tokens read ahead but not yet consumed. */
  private readonly ahead: Token[] = [];
  private readonly lex: Lexer;
  private readonly budget: FilterBudget;
  constructor(text: string, private readonly Err: ErrorCtor) {
    this.lex = new Lexer(text, Err);
    this.budget = new FilterBudget(Err);
  }

  peek(offset = 0): Token {
    while (this.ahead.length <= offset) {
      const last = this.ahead[this.ahead.length - 1];
      if (last?.kind === 'eof') return last;
      this.ahead.push(this.lex.token());
    }
    return this.ahead[offset]!;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.ahead.shift();
    return t;
  }
  /** Reads the next token in compValue position (see Lexer.valueToken). */
  private nextValue(): Token {
    const pending = this.ahead[0];
    if (pending) {
      this.lex.rewind(pending.pos);
      this.ahead.length = 0;
    }
    return this.lex.valueToken();
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
        // Microsoft's `emails[type eq "work"].value eq "x"`: the condition on the
        // sub-attribute joins the value filter, `emails[type eq "work" and value eq "x"]`.
        this.next();
        const sub = after.text.slice(1);
        if (!ATTRNAME.test(sub)) throw new this.Err(`invalid sub-attribute ${JSON.stringify(sub)} at position ${after.pos + 1}`);
        const cond = this.parseCondition({ attr: sub });
        return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: cond } };
      }
      return { kind: 'valuePath', path, filter };
    }
    return this.parseCondition(path);
  }

  /** `pr` or `compareOp compValue` after an attribute path. */
  private parseCondition(path: AttrPath): FilterNode {
    const t = this.peek();
    if (t.kind !== 'word') return this.fail(t, 'a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr"');
    const op = t.text.toLowerCase();
    if (op === 'pr') {
      this.budget.count(op);
      this.next();
      return { kind: 'present', path };
    }
    if (!COMPARE_OPS.has(op)) return this.fail(t, 'a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr"');
    this.budget.count(op);
    this.next();
    return { kind: 'compare', path, op: op as CompareOp, value: this.parseValue() };
  }

  /**
   * compValue: a JSON string, number, true, false or null; leniently, any other
   * bare word (up to whitespace, ")" or "]") is a string.
   */
  private parseValue(): Literal {
    const t = this.nextValue();
    if (t.kind === 'string') return t.value!;
    if (t.kind === 'bare') {
      const w = t.text.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
      if (NUMBER_TEXT.test(t.text)) return Number(t.text);
      return t.text;
    }
    return this.fail(t, 'a value (a "quoted string", a number, true, false or null)');
  }
}

/** Parses a SCIM filter expression. Throws InvalidFilterError naming the problem and its position. */
export function parseFilter(text: string): FilterNode {
  checkSize(text, 'filter', InvalidFilterError);
  const p = new Parser(text, InvalidFilterError);
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
  const p = new Parser(text, InvalidPathError);
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
