/**
 * Conformance replay runner.
 *
 * A fixture (test/conformance/fixtures/*.json) is an ordered array of steps that replay,
 * request by request, what an IdP (Microsoft Entra ID, Okta) or a vendor test suite sends.
 * `replayFixture()` runs the steps against a fastify app with `app.inject()` and throws a
 * `ReplayError` describing the first mismatch (step, request, response body).
 *
 * Expected bodies are *partial*: objects match by subset, arrays by exact length and order,
 * unless a matcher directive (an object whose keys all start with `$`) says otherwise:
 *
 *   {"$contains": [a, b]}   array holds items matching a and b (any order, other items allowed)
 *   {"$unordered": [a, b]}  array has exactly these items, in any order
 *   {"$length": n}          array/string length
 *   {"$type": "number"}     typeof, plus "array" and "null"
 *   {"$notEmpty": true}     not undefined/null/""/[]/{}
 *   {"$present": true}      not undefined
 *   {"$absent": true}       undefined or null (RFC 7643 §2.5: unassigned == null)
 *   {"$startsWith": s} {"$endsWith": s} {"$regex": s}
 *   {"$eq": v}              deep equality (no subset matching)
 *   {"$ne": v} {"$notIn": [v, …]}
 *   {"$oneOf": [m1, m2]}    any of the matchers
 *   {"$gte": n} {"$lte": n}
 *
 * Several directives in one object all apply. Strings in `request` and `expect` may use
 * `{{var}}` (seeded or captured), `{{enc:var}}` (URI-component encoded), `{{upper:var}}`,
 * `{{lower:var}}` and `{{$guid}}` (a fresh UUID per occurrence, as in Postman).
 */
import { it } from 'node:test';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface FixtureRequest {
  method: string;
  /** Relative to the SCIM base, e.g. `/Users?filter=userName eq "{{userName}}"`. */
  path: string;
  headers?: Record<string, string>;
  /** JSON body (serialised with JSON.stringify after variable substitution). */
  body?: Json;
  /** Raw body text, sent as is after substitution (for malformed-JSON tests). */
  rawBody?: string;
}

export interface FixtureExpect {
  /** Exact status, or the list of acceptable statuses. Omitted: not checked (5xx still fails). */
  status?: number | number[];
  /** Partial JSON the response body must contain (see matcher rules above). */
  body?: Json;
  /** Path → matcher, for assertions addressed by path (e.g. `Resources[0].endpoint`). */
  paths?: Record<string, Json>;
  /** Paths that must be absent (undefined or null) in the response body. */
  absent?: string[];
  /** Substrings the raw response text must contain / must not contain. */
  bodyContains?: string[];
  bodyNotContains?: string[];
  /** Response header (lower-case name) → matcher. */
  headers?: Record<string, Json>;
  /**
   * Content-Type check for responses with a body. Default: must start with
   * `application/scim+json`. `false` disables the check for this step.
   */
  scimContentType?: boolean;
}

export interface FixtureStep {
  name: string;
  /** Document title + section (or vendor file + item) the step replays. */
  source: string;
  note?: string;
  request: FixtureRequest;
  expect: FixtureExpect;
  /** varName → JSON path in the response body (or `header:<name>`). */
  capture?: Record<string, string>;
}

export type Fixture = FixtureStep[];

export interface ReplayContext {
  app: Pick<FastifyInstance, 'inject'>;
  /** e.g. `/scim/v2/<tenantId>` */
  scimBase: string;
  /** SCIM bearer token (sent as `Authorization: Bearer <token>` unless the step overrides it). */
  token: string;
  /** Variables; defaults to `seedVars()`. Captures are written into this object. */
  vars?: Record<string, string>;
  /** Fail any step answered with a 5xx even if the step does not check the status. Default true. */
  fail5xx?: boolean;
}

export interface StepResult {
  step: FixtureStep;
  status: number;
  body: unknown;
  text: string;
}

const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadFixture(name: string): Fixture {
  const text = readFileSync(`${FIXTURE_DIR}${name}.json`, 'utf8');
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`fixture ${name}: top level must be an array of steps`);
  return parsed as Fixture;
}

/** Fresh random values for one replay (one tenant). */
export function seedVars(): Record<string, string> {
  const hex = () => randomBytes(4).toString('hex');
  const u = () => randomUUID();
  const given = `Runscope${100 + Math.floor(Math.random() * 900)}`;
  const family = `Hfluaklab${hex()}`;
  const runscopeUser = `${given}${family}@example.com`;
  const v: Record<string, string> = {
    runId: hex(),
    // Entra-style values (Test_User_<guid>)
    userName: `Test_User_${u()}`,
    userName2: `Test_User_${u()}`,
    userName3: `Test_User_${u()}`,
    userName4: `Test_User_${u()}`,
    managerUserName: `Test_Manager_${u()}`,
    userNameRenamed: `${u()}@testuser.com`,
    userEmail: `Test_User_${u()}@testuser.com`,
    userEmail2: `Test_User_${u()}@testuser.com`,
    externalId: u(),
    externalId2: u(),
    externalId3: u(),
    externalId4: u(),
    managerExternalId: u(),
    groupExternalId: u(),
    groupExternalId2: u(),
    randomUserName: `Test_User_${u()}`,
    nonExistentId: u(),
    groupName: `Group_${hex()}`,
    groupName2: `Group_${hex()}`,
    groupNameRenamed: `Group_${hex()}_renamed`,
    // Okta-style values
    oktaUserName: `test.user.${hex()}@okta.local`,
    oktaUserName2: `test.user.${hex()}@okta.local`,
    oktaUserName3: `test.user.${hex()}@okta.local`,
    oktaUserName4: `test.user.${hex()}@okta.local`,
    oktaExternalId: `00u${hex()}${hex()}`,
    oktaExternalId2: `00u${hex()}${hex()}`,
    oktaExternalId3: `00u${hex()}${hex()}`,
    oktaExternalId4: `00u${hex()}${hex()}`,
    // Okta Runscope "Initial_Script_Spec" variables (names and shapes as documented by Okta)
    randomGivenName: given,
    randomFamilyName: family,
    randomUsername: runscopeUser,
    randomEmail: runscopeUser,
    randomUsernameCaps: `${given}${family}`.toUpperCase() + '@example.com',
    InvalidUserEmail: 'abcdefgh@example.com',
    UserIdThatDoesNotExist: '010101001010101011001010101011',
  };
  return v;
}

// ---------------------------------------------------------------------------------------
// Variable substitution

const VAR_RE = /\{\{\s*([^{}]+?)\s*\}\}/g;

export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(VAR_RE, (_m, rawName: string) => {
    if (rawName === '$guid') return randomUUID();
    const colon = rawName.indexOf(':');
    const fn = colon > 0 ? rawName.slice(0, colon) : '';
    const name = colon > 0 ? rawName.slice(colon + 1) : rawName;
    const value = vars[name];
    if (value === undefined) {
      throw new FixtureError(`unknown variable {{${rawName}}} (not seeded and not captured by an earlier step)`);
    }
    switch (fn) {
      case '': return value;
      case 'enc': return encodeURIComponent(value);
      case 'upper': return value.toUpperCase();
      case 'lower': return value.toLowerCase();
      default: throw new FixtureError(`unknown variable function ${fn} in {{${rawName}}}`);
    }
  });
}

export function substituteDeep(value: Json, vars: Record<string, string>): Json {
  if (typeof value === 'string') return substitute(value, vars);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, vars));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteDeep(v, vars);
    return out;
  }
  return value;
}

/** Names referenced by `{{…}}` in a string (without function prefixes; `$guid` excluded). */
export function referencedVars(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(VAR_RE)) {
    const raw = (m[1] ?? '').trim();
    if (raw === '$guid') continue;
    const colon = raw.indexOf(':');
    out.push(colon > 0 ? raw.slice(colon + 1) : raw);
  }
  return out;
}

/**
 * Encode the query string the way an HTTP client would: each `key=value` whose value is not
 * already percent-encoded gets `encodeURIComponent`; pre-encoded values (vendor URLs such as
 * `filter=DisplayName+eq+%22BobIsAmazing%22`) are sent exactly as written.
 */
export function encodeRequestPath(path: string): string {
  const qi = path.indexOf('?');
  if (qi < 0) return path;
  const base = path.slice(0, qi);
  const query = path.slice(qi + 1);
  const parts = query.split('&').map((kv) => {
    const eq = kv.indexOf('=');
    if (eq < 0) return kv;
    const k = kv.slice(0, eq);
    const v = kv.slice(eq + 1);
    return `${k}=${/%[0-9A-Fa-f]{2}/.test(v) ? v : encodeURIComponent(v)}`;
  });
  return `${base}?${parts.join('&')}`;
}

// ---------------------------------------------------------------------------------------
// JSON paths: a.b[0].c, ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].manager

export function parsePath(path: string): (string | number)[] {
  const tokens: (string | number)[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') { i++; continue; }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw new FixtureError(`bad path ${path}`);
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) tokens.push(Number(inner));
      else if (/^".*"$/.test(inner) || /^'.*'$/.test(inner)) tokens.push(inner.slice(1, -1));
      else throw new FixtureError(`bad path segment [${inner}] in ${path}`);
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    tokens.push(path.slice(i, j));
    i = j;
  }
  return tokens;
}

export function getPath(obj: unknown, path: string): unknown {
  if (path === '' || path === '$') return obj;
  let cur: unknown = obj;
  for (const t of parsePath(path)) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof t === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[t];
    } else {
      if (typeof cur !== 'object' || Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[t];
    }
  }
  return cur;
}

// ---------------------------------------------------------------------------------------
// Matching

function show(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

function isDirective(v: unknown): v is Record<string, Json> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  if (keys.length === 0) return false;
  const dollar = keys.filter((k) => k.startsWith('$'));
  if (dollar.length === 0) return false;
  if (dollar.length !== keys.length) {
    throw new FixtureError(`matcher object mixes $directives and attributes: ${show(v)}`);
  }
  return true;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (typeof a === 'object') {
    if (Array.isArray(b)) return false;
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** Bipartite assignment: every expected item matched by a distinct actual item. */
function assign(expected: Json[], actual: unknown[]): boolean {
  const used = new Array<boolean>(actual.length).fill(false);
  const go = (i: number): boolean => {
    if (i === expected.length) return true;
    for (let j = 0; j < actual.length; j++) {
      if (!used[j] && match(expected[i] as Json, actual[j], '') === null) {
        used[j] = true;
        if (go(i + 1)) return true;
        used[j] = false;
      }
    }
    return false;
  };
  return go(0);
}

/** Returns null on match, else a description of the first mismatch. */
export function match(expected: Json, actual: unknown, path: string): string | null {
  const at = path === '' ? '(body)' : path;
  if (isDirective(expected)) {
    for (const [d, arg] of Object.entries(expected)) {
      const r = directive(d, arg, actual, at);
      if (r !== null) return r;
    }
    return null;
  }
  if (expected === null || typeof expected !== 'object') {
    return expected === actual ? null : `${at}: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at}: expected an array ${show(expected)}, got ${show(actual)}`;
    if (actual.length !== expected.length) {
      return `${at}: expected an array of length ${expected.length}, got length ${actual.length}: ${show(actual)}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const r = match(expected[i] as Json, actual[i], `${path}[${i}]`);
      if (r !== null) return r;
    }
    return null;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
    return `${at}: expected an object, got ${show(actual)}`;
  }
  for (const [k, v] of Object.entries(expected) as [string, Json][]) {
    const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
    const sub = path === '' ? key : key.startsWith('[') ? `${path}${key}` : `${path}.${key}`;
    const r = match(v, (actual as Record<string, unknown>)[k], sub);
    if (r !== null) return r;
  }
  return null;
}

function directive(d: string, arg: Json, actual: unknown, at: string): string | null {
  const fail = (what: string) => `${at}: expected ${what}, got ${show(actual)}`;
  switch (d) {
    case '$contains': {
      if (!Array.isArray(arg)) throw new FixtureError('$contains takes an array');
      if (!Array.isArray(actual)) return fail(`an array containing ${show(arg)}`);
      return assign(arg, actual) ? null : fail(`an array containing ${show(arg)}`);
    }
    case '$unordered': {
      if (!Array.isArray(arg)) throw new FixtureError('$unordered takes an array');
      if (!Array.isArray(actual) || actual.length !== arg.length) {
        return fail(`exactly ${arg.length} items (any order) matching ${show(arg)}`);
      }
      return assign(arg, actual) ? null : fail(`exactly these items in any order: ${show(arg)}`);
    }
    case '$length':
      if (!(Array.isArray(actual) || typeof actual === 'string') || actual.length !== arg) return fail(`length ${show(arg)}`);
      return null;
    case '$type':
      return typeName(actual) === arg ? null : fail(`type ${show(arg)}`);
    case '$notEmpty':
      return isEmpty(actual) === !arg ? null : fail(arg ? 'a non-empty value' : 'an empty value');
    case '$present':
      return (actual !== undefined) === Boolean(arg) ? null : fail(arg ? 'a value' : 'no value');
    case '$absent':
      return (actual === undefined || actual === null) === Boolean(arg) ? null : fail(arg ? 'absent (undefined or null)' : 'present');
    case '$startsWith':
      return typeof actual === 'string' && actual.startsWith(String(arg)) ? null : fail(`a string starting with ${show(arg)}`);
    case '$endsWith':
      return typeof actual === 'string' && actual.endsWith(String(arg)) ? null : fail(`a string ending with ${show(arg)}`);
    case '$regex':
      return typeof actual === 'string' && new RegExp(String(arg)).test(actual) ? null : fail(`a string matching /${String(arg)}/`);
    case '$eq':
      return deepEqual(arg, actual) ? null : fail(`exactly ${show(arg)}`);
    case '$ne':
      return deepEqual(arg, actual) ? fail(`anything but ${show(arg)}`) : null;
    case '$notIn':
      if (!Array.isArray(arg)) throw new FixtureError('$notIn takes an array');
      return arg.some((x) => deepEqual(x, actual)) ? fail(`none of ${show(arg)}`) : null;
    case '$oneOf':
      if (!Array.isArray(arg)) throw new FixtureError('$oneOf takes an array');
      return arg.some((m) => match(m, actual, '') === null) ? null : fail(`one of ${show(arg)}`);
    case '$gte':
      return typeof actual === 'number' && actual >= Number(arg) ? null : fail(`a number >= ${show(arg)}`);
    case '$lte':
      return typeof actual === 'number' && actual <= Number(arg) ? null : fail(`a number <= ${show(arg)}`);
    default:
      throw new FixtureError(`unknown matcher directive ${d}`);
  }
}

// ---------------------------------------------------------------------------------------
// Running

export class FixtureError extends Error {
  override name = 'FixtureError';
}

export class ReplayError extends Error {
  override name = 'ReplayError';
  constructor(
    message: string,
    readonly stepIndex: number,
    readonly step: FixtureStep,
    readonly result?: StepResult,
  ) {
    super(message);
  }
}

function redact(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = k.toLowerCase() === 'authorization' && /^(bearer|basic)\s+/i.test(v)
      ? v.replace(/^(\S+\s+)(.{0,6}).*$/, '$1$2…') : v;
  }
  return out;
}

function setHeader(h: Record<string, string>, name: string, value: string): void {
  for (const k of Object.keys(h)) if (k.toLowerCase() === name.toLowerCase()) delete h[k];
  h[name] = value;
}

function hasHeader(h: Record<string, string>, name: string): boolean {
  return Object.keys(h).some((k) => k.toLowerCase() === name.toLowerCase());
}

/** Run one fixture; returns the variables (seeded + captured). Throws ReplayError on the first mismatch. */
export async function replayFixture(
  fixture: Fixture,
  ctx: ReplayContext,
): Promise<{ vars: Record<string, string>; results: StepResult[] }> {
  const vars = ctx.vars ?? seedVars();
  vars.auth ??= `Bearer ${ctx.token}`;
  vars.scimToken ??= ctx.token;
  const fail5xx = ctx.fail5xx ?? true;
  const results: StepResult[] = [];

  for (let i = 0; i < fixture.length; i++) {
    const step = fixture[i] as FixtureStep;
    const where = `step ${i + 1}/${fixture.length} "${step.name}"`;
    let method = '';
    let url = '';
    let headers: Record<string, string> = {};
    let payload: string | undefined;
    try {
      method = step.request.method.toUpperCase();
      url = ctx.scimBase + encodeRequestPath(substitute(step.request.path, vars));
      headers = {};
      for (const [k, v] of Object.entries(step.request.headers ?? {})) headers[k] = substitute(v, vars);
      if (!hasHeader(headers, 'authorization')) setHeader(headers, 'Authorization', `Bearer ${ctx.token}`);
      if (step.request.rawBody !== undefined) payload = substitute(step.request.rawBody, vars);
      else if (step.request.body !== undefined) payload = JSON.stringify(substituteDeep(step.request.body, vars));
      if (payload !== undefined && !hasHeader(headers, 'content-type')) {
        setHeader(headers, 'Content-Type', 'application/scim+json');
      }
    } catch (e) {
      throw new ReplayError(`${where}: ${(e as Error).message}`, i, step);
    }

    const res = await ctx.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
    const text = res.body;
    let body: unknown;
    let jsonError: string | undefined;
    if (text.length > 0) {
      try { body = JSON.parse(text); } catch (e) { jsonError = (e as Error).message; }
    }
    const result: StepResult = { step, status: res.statusCode, body, text };
    results.push(result);

    const describe = (problem: string) => [
      `${where} failed: ${problem}`,
      `  source:   ${step.source}`,
      ...(step.note ? [`  note:     ${step.note}`] : []),
      `  request:  ${method} ${url}`,
      `  headers:  ${JSON.stringify(redact(headers))}`,
      ...(payload !== undefined ? [`  body:     ${payload.length > 2000 ? payload.slice(0, 2000) + '…' : payload}`] : []),
      `  response: ${res.statusCode} content-type=${String(res.headers['content-type'] ?? '')}`,
      `  body:     ${text.length > 4000 ? text.slice(0, 4000) + '…' : text || '(empty)'}`,
    ].join('\n');

    const problem = (() => {
      const exp = step.expect;
      const allowed = exp.status === undefined ? undefined : Array.isArray(exp.status) ? exp.status : [exp.status];
      if (allowed && !allowed.includes(res.statusCode)) {
        return `status ${res.statusCode}, expected ${allowed.join(' or ')}`;
      }
      if (!allowed && fail5xx && res.statusCode >= 500) return `status ${res.statusCode} (server error)`;
      if (res.statusCode === 204 && text.length > 0) return '204 No Content with a non-empty body';
      if (text.length > 0 && exp.scimContentType !== false) {
        const ct = String(res.headers['content-type'] ?? '');
        if (!/^application\/scim\+json\b/i.test(ct)) return `Content-Type ${JSON.stringify(ct)}, expected application/scim+json`;
      }
      // Captures first, so the same step's expectations may refer to what it created ({{userId}}).
      for (const [name, p] of Object.entries(step.capture ?? {})) {
        const v = p.startsWith('header:') ? res.headers[p.slice(7).toLowerCase()] : getPath(body, p);
        if (v === undefined || v === null || typeof v === 'object') {
          return `capture ${name} <- ${p}: no scalar value there (${show(v)})`;
        }
        vars[name] = String(v);
      }
      // A 204 is only acceptable here when the fixture allowed it; it has no body to check
      // (a later GET step verifies the state).
      const noBody = res.statusCode === 204 && (allowed?.includes(204) ?? false);
      const needsJson = !noBody && (exp.body !== undefined || exp.paths !== undefined || (exp.absent?.length ?? 0) > 0);
      if (needsJson && jsonError) return `response body is not JSON (${jsonError})`;
      if (needsJson && text.length === 0) return 'empty response body, expected JSON';
      if (!noBody && exp.body !== undefined) {
        const r = match(substituteDeep(exp.body, vars), body, '');
        if (r) return `body mismatch at ${r}`;
      }
      if (!noBody) {
        for (const [p, m] of Object.entries(exp.paths ?? {})) {
          const r = match(substituteDeep(m, vars), getPath(body, p), p);
          if (r) return `body mismatch at ${r}`;
        }
        for (const p of exp.absent ?? []) {
          const v = getPath(body, p);
          if (v !== undefined && v !== null) return `${p} must be absent, got ${show(v)}`;
        }
      }
      for (const s of exp.bodyContains ?? []) {
        const needle = substitute(s, vars);
        if (!text.includes(needle)) return `response text does not contain ${JSON.stringify(needle)}`;
      }
      for (const s of exp.bodyNotContains ?? []) {
        const needle = substitute(s, vars);
        if (text.includes(needle)) return `response text must not contain ${JSON.stringify(needle)}`;
      }
      for (const [h, m] of Object.entries(exp.headers ?? {})) {
        const v = res.headers[h.toLowerCase()];
        const r = match(substituteDeep(m, vars), v === undefined ? undefined : String(v), `header ${h}`);
        if (r) return r;
      }
      return null;
    })();

    if (problem !== null) throw new ReplayError(describe(problem), i, step, result);
  }
  return { vars, results };
}

/**
 * Static check of a fixture: shape, matcher syntax, and that every `{{var}}` is seeded or
 * captured by an earlier step. Returns a list of problems (empty when fine).
 */
export function lintFixture(fixture: unknown, seeded: Iterable<string>): string[] {
  const problems: string[] = [];
  if (!Array.isArray(fixture)) return ['top level must be an array'];
  const known = new Set([...seeded, 'auth', 'scimToken']);
  fixture.forEach((raw, i) => {
    const s = raw as Partial<FixtureStep>;
    const where = `step ${i + 1} (${s?.name ?? '?'})`;
    if (typeof s.name !== 'string' || !s.name) problems.push(`${where}: name missing`);
    if (typeof s.source !== 'string' || !s.source) problems.push(`${where}: source missing`);
    if (!s.request || typeof s.request.method !== 'string' || typeof s.request.path !== 'string') {
      problems.push(`${where}: request.method/path missing`);
      return;
    }
    if (!s.request.path.startsWith('/')) problems.push(`${where}: path must start with /`);
    if (!s.expect || typeof s.expect !== 'object') { problems.push(`${where}: expect missing`); return; }
    const texts: string[] = [s.request.path, ...Object.values(s.request.headers ?? {})];
    if (s.request.rawBody !== undefined) texts.push(s.request.rawBody);
    if (s.request.body !== undefined) texts.push(JSON.stringify(s.request.body));
    for (const t of texts) for (const v of referencedVars(t)) if (!known.has(v)) problems.push(`${where}: request uses unknown {{${v}}}`);
    for (const name of Object.keys(s.capture ?? {})) known.add(name);
    const exp = s.expect;
    const expTexts = [JSON.stringify(exp.body ?? null), JSON.stringify(exp.paths ?? {}), JSON.stringify(exp.headers ?? {}),
      ...(exp.bodyContains ?? []), ...(exp.bodyNotContains ?? [])];
    for (const t of expTexts) for (const v of referencedVars(t)) if (!known.has(v)) problems.push(`${where}: expect uses unknown {{${v}}}`);
    try {
      // Exercise matcher syntax against a dummy value (errors are FixtureErrors only).
      const probe = (m: Json) => { try { match(m, undefined, ''); } catch (e) { if (e instanceof FixtureError) throw e; } };
      if (exp.body !== undefined) walkMatchers(exp.body, probe);
      for (const m of Object.values(exp.paths ?? {})) walkMatchers(m, probe);
      for (const p of [...Object.keys(exp.paths ?? {}), ...(exp.absent ?? []), ...Object.values(s.capture ?? {})]) {
        if (!p.startsWith('header:')) parsePath(p);
      }
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
    if (exp.status !== undefined) {
      const list = Array.isArray(exp.status) ? exp.status : [exp.status];
      if (!list.every((n) => Number.isInteger(n) && n >= 100 && n < 600)) problems.push(`${where}: bad status ${JSON.stringify(exp.status)}`);
    }
  });
  return problems;
}

function walkMatchers(v: Json, visit: (m: Json) => void): void {
  if (v === null || typeof v !== 'object') return;
  if (isDirective(v)) {
    visit(v);
    for (const arg of Object.values(v)) walkMatchers(arg, visit);
    return;
  }
  for (const x of (Array.isArray(v) ? v : Object.values(v)) as Json[]) walkMatchers(x, visit);
}

/** Registers one test per fixture, each against a fresh app + tenant, once per database. */
export function replaySuite(fixtures: string[]): void {
  eachDatabase((db) => {
    for (const name of fixtures) {
      it(`${name} replays`, async () => {
        const t = await startTestApp(db);
        try {
          await replayFixture(loadFixture(name), { app: t.app, scimBase: t.scimBase, token: t.scimToken });
        } finally {
          await t.close();
        }
      });
    }
  });
}
