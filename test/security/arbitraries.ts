/** fast-check generators of hostile input: strings, JSON, filters, PATCH paths, raw bytes. */
import fc from 'fast-check';

/** Strings an attacker or a broken IdP sends: injections, look-alikes, control characters. */
export const NASTY = [
  '', ' ', '"', '\\', '\\"', '"\\', "'", "' OR '1'='1", '" or "1"="1', '"; DROP TABLE scim_users; --', "'); DELETE FROM tenants; --",
  '$1', '$$', '%', '_', '%%', '*', '\u0000', 'a\u0000b', '\u0000"', '%00', '\\u0000', '\ud800', '\udfff', '\ufeff', '\u202e', '\u200b',
  'ｕｓｅｒＮａｍｅ', 'usеrName' /* Cyrillic е */, 'ＵＳＥＲＮＡＭＥ', 'İ', 'ß', 'ﬀ', '\u0130', 'userName\u0000', 'userName eq "x"',
  '${7*7}', '{{7*7}}', '<script>alert(1)</script>', '../../etc/passwd', '..', '.', '/', '//', 'null', 'undefined', 'true', 'NaN',
  '-1', '0', '1e309', '99999999999999999999', '-0', '0x10', '[]', '{}', '()', '((', '))', ']]', '[[', '[', ']', 'bulkId:', 'bulkId:x',
  'urn:', 'urn:ietf:params:scim:schemas:core:2.0:User:', ':', '::', 'a..b', '.a', 'a.', 'a.b.c.d.e', '\n', '\r\n', '\t', '\x7f', '\x1b[31m',
  '😀', '𝔘𝔰𝔢𝔯', 'x'.repeat(300), 'é'.repeat(200),
];

export const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY), fc.constantFrom(...NASTY), fc.string({ maxLength: 5 })).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(70_000), '"'.repeat(20_000), '\\'.repeat(20_000), '('.repeat(5000), '[' .repeat(5000)) },
);

/** Arbitrary JSON, deep and wide. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, [], {}, [[]], [{}]) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => deepArray(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => deepObject(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 50_000 }).map((n) => Array.from({ length: n }, (_, i) => i)) },
);

/** A JSON fragment too deep for JSON.stringify (and fast-check's printer): spliced in by `toJson`. */
export class RawJson {
  constructor(readonly raw: string, readonly label: string) {}
  [fc.toStringMethod]() { return `<${this.label}>`; }
}
export function deepArray(depth: number): RawJson {
  return new RawJson('['.repeat(depth) + ']'.repeat(depth), `array nested ${depth} deep`);
}
export function deepObject(depth: number, key = 'a'): RawJson {
  return new RawJson(`{"${key}":`.repeat(depth) + '{}' + '}'.repeat(depth), `object nested ${depth} deep`);
}
/** JSON.stringify that splices RawJson fragments in. */
export function toJson(v: unknown): string {
  if (v === undefined) return '';
  const raws: string[] = [];
  const s = JSON.stringify(v, (_k, x) => (x instanceof RawJson ? (raws.push(x.raw), `\u0001RAW${raws.length - 1}\u0001`) : x));
  return s.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i) => raws[Number(i)]!);
}

/** A JSON value with one of several hostile shapes placed at a given key. */
export const valueFor = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: anyJson },
);

/** A body that is not valid JSON, or not UTF-8, as raw bytes. */
export const rawBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(
    '{', '}', '{"a":', '{"a":1,}', '[1,2', '{"a" 1}', "{'a':1}", 'nul', 'tru', '{"a":1}{"b":2}', '{"a":1} x', '\u0000', '{"a":"\u0000"}',
    '{"a":"\\ud800"}', '{"a":"\\u00"}', '{"a":"\\x41"}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}',
    '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":1e99999}', ' ', '\ufeff{}', '{"a":"' + 'x'.repeat(2000) + '"',
  ).map((s) => Buffer.from(s, 'utf8')),
  // invalid UTF-8 inside an otherwise valid JSON document
  fc.tuple(fc.constantFrom('{"userName":"', '{"displayName":"', '{"schemas":["', '{"Operations":[{"op":"add","path":"'), fc.uint8Array({ minLength: 1, maxLength: 16 }))
    .map(([pre, bytes]) => Buffer.concat([Buffer.from(pre), Buffer.from([0xff, 0xfe, ...bytes, 0xc3]), Buffer.from('"}')])),
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 2000, max: 200_000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 2000, max: 200_000 }).map((n) => Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
);

const ATTRS = [
  'userName', 'id', 'externalId', 'displayName', 'active', 'name.givenName', 'name.familyName', 'emails', 'emails.value', 'emails.type',
  'emails[type eq "work"].value', 'members', 'members.value', 'groups.value', 'meta.created', 'meta.lastModified', 'meta.resourceType',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', 'title', 'nickName', 'x509Certificates.value',
  'unknownAttr', 'password', 'roles.value', 'phoneNumbers[type eq "work"].value', 'addresses.country',
];
const OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le', 'EQ', 'Eq', 'xx', '=', '==', 'like', 'and', 'or', 'not', ''];
const literal = fc.oneof(
  nastyString.map((s) => JSON.stringify(s)),
  nastyString.map((s) => `"${s}"`),
  fc.constantFrom('true', 'false', 'null', '1', '-1.5e3', '2024-01-01T00:00:00Z', '"2024-01-01T00:00:00Z"', 'True', '"', 'abc', '1e309', '""'),
);
const attr = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ATTRS) }, { weight: 1, arbitrary: nastyString });
const comparison = fc.tuple(attr, fc.constantFrom(...OPS), literal).map(([a, o, v]) => (o === 'pr' ? `${a} pr` : `${a} ${o} ${v}`));

/** SCIM filters: mostly well-formed-looking, with hostile pieces. */
export const filterArb: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: comparison },
    { weight: 1, arbitrary: fc.tuple(tie('f'), fc.constantFrom('and', 'or', 'AND', 'Or', '&&', ''), tie('f')).map(([a, op, b]) => `${a} ${op} ${b}`) },
    { weight: 1, arbitrary: tie('f').map((f) => `not (${f})`) },
    { weight: 1, arbitrary: tie('f').map((f) => `(${f})`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('emails', 'members', 'addresses', 'groups', 'userName'), comparison).map(([a, c]) => `${a}[${c}]`) },
  ),
})).f;

export const hostileFilter = fc.oneof(
  { weight: 5, arbitrary: filterArb },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => `${'not ('.repeat(n)}userName pr${')'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => `${'('.repeat(n)}userName pr${')'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' or ')) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' and ')) },
);

/** PATCH paths: valid-looking paths with injected pieces. */
export const pathArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ATTRS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('emails', 'members', 'addresses', 'phoneNumbers', 'roles'), filterArb, fc.constantFrom('', '.value', '.type', '.primary', '.nope', '[x]'))
    .map(([a, f, s]) => `${a}[${f}]${s}`) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:User', 'urn:x'), fc.constantFrom(':', '.', ''), nastyString)
    .map(([u, sep, a]) => `${u}${sep}${a}`) },
);

export const patchOp = fc.record({
  op: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('add', 'replace', 'remove', 'Add', 'Replace', 'Remove', 'ADD') }, { weight: 1, arbitrary: valueFor }),
  path: fc.option(fc.oneof({ weight: 5, arbitrary: pathArb }, { weight: 1, arbitrary: anyJson }), { nil: undefined }),
  value: fc.option(fc.oneof(
    valueFor,
    fc.dictionary(fc.oneof(fc.constantFrom(...ATTRS), nastyString), valueFor, { maxKeys: 4 }),
    fc.array(fc.record({ value: valueFor, display: fc.option(nastyString, { nil: undefined }) }, { requiredKeys: [] }), { maxLength: 5 }),
  ), { nil: undefined }),
}, { requiredKeys: [] });
