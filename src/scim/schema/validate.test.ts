import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidSyntaxError, InvalidValueError, MutabilityError } from '../errors.js';
import { findAttr } from './common.js';
import { CORE_USER_SCHEMA, USER_SCHEMA } from './core-user.js';
import { ENTERPRISE_USER_SCHEMA } from './enterprise-user.js';
import { GROUP_SCHEMA } from './core-group.js';
import { buildResourceSchemas, CUSTOM_EXTENSION_SCHEMA, METADATA_SCHEMA, type TenantExtensionAttribute } from './registry.js';
import { coerceValue, normalizeResource } from './validate.js';
import { attr } from './common.js';

const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
const tenantAttrs: TenantExtensionAttribute[] = [
  { schema: ACME, name: 'tier', type: 'string', multiValued: false, canonicalValues: ['Gold', 'Silver'] },
  { schema: ACME, name: 'code', type: 'string', multiValued: false, canonicalValues: ['AbC'], caseExact: true },
  { schema: ACME, name: 'level', type: 'integer', multiValued: false },
  { schema: ACME, name: 'score', type: 'decimal', multiValued: false },
  { schema: ACME, name: 'hiredAt', type: 'dateTime', multiValued: false },
  { schema: ACME, name: 'badge', type: 'binary', multiValued: false },
  { schema: ACME, name: 'remote', type: 'boolean', multiValued: false },
  { schema: ACME, name: 'site', type: 'reference', multiValued: false },
  { schema: ACME, name: 'tags', type: 'string', multiValued: true },
];
const users = buildResourceSchemas('User', tenantAttrs);
const groups = buildResourceSchemas('Group', []);
const norm = (input: unknown, mode: 'create' | 'replace' | 'patch-result' = 'create') => normalizeResource(users, input, mode);

function rejects(fn: () => unknown, cls: new (...a: never[]) => Error, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof cls && re.test((e as Error).message));
}

test('non-object bodies are invalidSyntax', () => {
  for (const bad of [null, 'x', 42, [], [{ userName: 'a' }]]) rejects(() => norm(bad), InvalidSyntaxError, /JSON object/);
});

test('attribute names are canonicalised to the schema spelling, sub-attributes too', () => {
  const out = norm({ USERNAME: 'bjensen', NAME: { GIVENNAME: 'Barbara', familyname: 'Jensen' }, Emails: [{ VALUE: 'b@x.io', Type: 'work' }] });
  assert.deepEqual(out, {
    schemas: [USER_SCHEMA],
    userName: 'bjensen',
    name: { familyName: 'Jensen', givenName: 'Barbara' },
    emails: [{ value: 'b@x.io', type: 'work' }],
  });
});

test('extension data nested or flat (incl. dotted manager.value) ends up under its URN', () => {
  const nested = norm({ userName: 'a', [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '1', Manager: { value: 'm1' } } });
  const flat = norm({
    userName: 'a',
    [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: '1',
    [`${ENTERPRISE_USER_SCHEMA.toUpperCase()}:manager.value`]: 'm1',
  });
  const expected = { schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], userName: 'a', [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '1', manager: { value: 'm1' } } };
  assert.deepEqual(nested, expected);
  assert.deepEqual(flat, expected);
});

test('flat and nested forms merge; nested dotted keys work too', () => {
  const out = norm({
    userName: 'a',
    [ENTERPRISE_USER_SCHEMA]: { department: 'R&D', 'manager.value': 'm1' },
    [`${ENTERPRISE_USER_SCHEMA}:manager.$ref`]: 'https://x/Users/m1',
    'name.givenName': 'B',
  });
  assert.deepEqual(out[ENTERPRISE_USER_SCHEMA], { department: 'R&D', manager: { value: 'm1', $ref: 'https://x/Users/m1' } });
  assert.deepEqual(out.name, { givenName: 'B' });
});

test('Entra: booleans as strings, manager as a bare id', () => {
  for (const [s, b] of [['True', true], ['False', false], ['true', true], ['false', false], [' TRUE ', true]] as const) {
    assert.equal(norm({ userName: 'a', active: s }).active, b);
  }
  rejects(() => norm({ userName: 'a', active: 'yes' }), InvalidValueError, /"active" must be a boolean/);
  rejects(() => norm({ userName: 'a', active: 1 }), InvalidValueError, /"active" must be a boolean/);
  const out = norm({ userName: 'a', [`${ENTERPRISE_USER_SCHEMA}:manager`]: '26118915-6090-4610-87e4-49d8ca9f808d' });
  assert.deepEqual(out[ENTERPRISE_USER_SCHEMA], { manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' } });
  // emails[].primary as "True" too
  assert.deepEqual(norm({ userName: 'a', emails: [{ value: 'x', primary: 'True' }] }).emails, [{ value: 'x', primary: true }]);
});

test('a single value for a multi-valued attribute becomes a one-element array; commas are not split', () => {
  const out = norm({ userName: 'a', emails: { value: 'a@x.io' }, [`${CUSTOM_EXTENSION_SCHEMA}:folders`]: 'ds1,ds2' });
  assert.deepEqual(out.emails, [{ value: 'a@x.io' }]);
  assert.deepEqual(out[CUSTOM_EXTENSION_SCHEMA], { folders: ['ds1,ds2'] });
  assert.deepEqual(norm({ userName: 'a', [CUSTOM_EXTENSION_SCHEMA]: { folders: ['a', '', 'b'] } })[CUSTOM_EXTENSION_SCHEMA], { folders: ['a', 'b'] });
});

test('numeric strings are coerced for integer/decimal; numbers accepted for strings', () => {
  const out = norm({ userName: 'a', [ACME]: { level: ' 42 ', score: '3.5e1' }, [ENTERPRISE_USER_SCHEMA]: { employeeNumber: 701984 } });
  assert.deepEqual(out[ACME], { level: 42, score: 35 });
  assert.deepEqual(out[ENTERPRISE_USER_SCHEMA], { employeeNumber: '701984' });
  rejects(() => norm({ userName: 'a', [ACME]: { level: '4.2' } }), InvalidValueError, new RegExp(`"${ACME}:level" must be an integer`));
  rejects(() => norm({ userName: 'a', [ACME]: { level: 2 ** 60 } }), InvalidValueError, /must be an integer/);
  rejects(() => norm({ userName: 'a', [ACME]: { score: 'abc' } }), InvalidValueError, /must be a decimal/);
  rejects(() => norm({ userName: true }), InvalidValueError, /"userName" must be a string/);
  rejects(() => norm({ userName: 'a', displayName: { x: 1 } }), InvalidValueError, /"displayName" must be a string/);
});

test('dateTime, binary and reference type checks', () => {
  assert.equal((norm({ userName: 'a', [ACME]: { hiredAt: '2024-02-29T10:00:00.123+01:00' } })[ACME] as Record<string, unknown>).hiredAt, '2024-02-29T10:00:00.123+01:00');
  rejects(() => norm({ userName: 'a', [ACME]: { hiredAt: '2024-02-29' } }), InvalidValueError, /hiredAt" must be a dateTime/);
  rejects(() => norm({ userName: 'a', [ACME]: { hiredAt: '2023-13-40T10:00:00Z' } }), InvalidValueError, /must be a dateTime/);
  // Impossible dates JavaScript would roll over or accept (PostgreSQL cannot cast them): refused.
  for (const bad of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '0000-01-01T00:00:00Z', '2024-06-31T12:00:00+01:00', '2024-01-01T24:00:00Z', '2024-01-01T10:60:00Z', '2024-01-01T10:00:00+15:00']) {
    rejects(() => norm({ userName: 'a', [ACME]: { hiredAt: bad } }), InvalidValueError, /hiredAt" must be a dateTime/);
  }
  for (const good of ['2024-02-29T00:00:00Z', '2000-02-29T23:59:59.999-14:00', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2015-10-10T14:38:21.8617979-07:00', '2024-04-30T00:00:00']) {
    assert.equal((norm({ userName: 'a', [ACME]: { hiredAt: good } })[ACME] as Record<string, unknown>).hiredAt, good);
  }
  assert.equal((norm({ userName: 'a', [ACME]: { badge: 'TUlJQ0lq\nQ0NB' } })[ACME] as Record<string, unknown>).badge, 'TUlJQ0lq\nQ0NB');
  rejects(() => norm({ userName: 'a', x509Certificates: [{ value: 'not base64!' }] }), InvalidValueError, /"x509Certificates\[0\]\.value" must be base64/);
  rejects(() => norm({ userName: 'a', profileUrl: 5 }), InvalidValueError, /"profileUrl" must be a reference/);
  assert.deepEqual(norm({ userName: 'a', [ACME]: { site: '/Sites/1' } })[ACME], { site: '/Sites/1' });
});

test('complex attributes: unknown and read-only sub-attributes dropped, non-object rejected', () => {
  const out = norm({ userName: 'a', name: { givenName: 'B', nickname: 'x' }, [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm', displayName: 'Boss' } } });
  assert.deepEqual(out.name, { givenName: 'B' });
  assert.deepEqual(out[ENTERPRISE_USER_SCHEMA], { manager: { value: 'm' } });
  rejects(() => norm({ userName: 'a', name: 'Barbara' }), InvalidValueError, /"name" must be an object/);
  rejects(() => norm({ userName: 'a', emails: [['x']] }), InvalidValueError, /"emails\[0\]" must be an object/);
  rejects(() => norm({ userName: 'a', 'emails.value': 'x' }), InvalidValueError, /multi-valued "emails"/);
});

test('single-valued attribute: a one-element array is unwrapped, more is rejected', () => {
  assert.equal(norm({ userName: ['a'] }).userName, 'a');
  rejects(() => norm({ userName: ['a', 'b'] }), InvalidValueError, /"userName" is single-valued but 2 values/);
});

test('tenant canonicalValues are enforced (case per caseExact); RFC ones are not', () => {
  assert.equal((norm({ userName: 'a', [ACME]: { tier: 'gold' } })[ACME] as Record<string, unknown>).tier, 'Gold');
  rejects(() => norm({ userName: 'a', [ACME]: { tier: 'Bronze' } }), InvalidValueError, /"urn:ietf:params:scim:schemas:extension:2.0:Acme:tier" value "Bronze" is not allowed; allowed values: Gold, Silver/);
  rejects(() => norm({ userName: 'a', [ACME]: { code: 'abc' } }), InvalidValueError, /allowed values: AbC/);
  assert.deepEqual(norm({ userName: 'a', emails: [{ value: 'x', type: 'Corporate' }] }).emails, [{ value: 'x', type: 'Corporate' }]);
});

test('required attributes on create/replace; removal after PATCH is a mutability error', () => {
  rejects(() => norm({ displayName: 'x' }), InvalidValueError, /"userName" is required/);
  rejects(() => norm({ userName: '' }, 'replace'), InvalidValueError, /"userName" is required/);
  rejects(() => norm({ userName: null }, 'patch-result'), MutabilityError, /"userName" is required and cannot be removed/);
  rejects(() => normalizeResource(groups, { members: [] }, 'create'), InvalidValueError, /"displayName" is required/);
  const strict = buildResourceSchemas('User', [{ schema: ACME, name: 'costCode', type: 'string', multiValued: false, required: true }]);
  rejects(() => normalizeResource(strict, { userName: 'a' }, 'create'), InvalidValueError, new RegExp(`"${ACME}:costCode" is required`));
  assert.doesNotThrow(() => normalizeResource(strict, { userName: 'a' }, 'patch-result'));
});

test('at most one primary=true: the first keeps it', () => {
  const out = norm({ userName: 'a', emails: [{ value: 'a', primary: false }, { value: 'b', primary: true }, { value: 'c', primary: 'True' }] });
  assert.deepEqual(out.emails, [{ value: 'a', primary: false }, { value: 'b', primary: true }, { value: 'c' }]);
});

test('read-only attributes are ignored; schemas recomputed; unknown core attributes dropped', () => {
  const out = norm({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:made:up'],
    id: 'client-chosen', meta: { created: 'x' }, groups: [{ value: 'g' }],
    userName: 'a', externalId: 'ext-1', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {},
    someOktaExtra: 'x', members: [{ value: 'u' }],
  });
  assert.deepEqual(out, { schemas: [USER_SCHEMA], externalId: 'ext-1', userName: 'a' });
  assert.deepEqual(Object.keys(out), ['schemas', 'externalId', 'userName']);
  rejects(() => norm({ userName: 'a', schemas: 'urn:x' }), InvalidValueError, /"schemas" must be an array/);
  rejects(() => norm({ userName: 'a', schemas: [1] }), InvalidValueError, /"schemas" must be an array/);
  assert.deepEqual(norm({ userName: 'a' }).schemas, [USER_SCHEMA]); // missing schemas is fine
});

test('unknown extension URN data is rejected; extension object must be an object', () => {
  rejects(() => norm({ userName: 'a', 'urn:ietf:params:scim:schemas:extension:2.0:Nope:x': 1 }), InvalidValueError, /unknown schema extension "urn:ietf:params:scim:schemas:extension:2.0:Nope"/);
  rejects(() => norm({ userName: 'a', 'urn:ietf:params:scim:schemas:extension:2.0:Nope': { x: 1 } }), InvalidValueError, /unknown schema extension/);
  rejects(() => norm({ userName: 'a', [ENTERPRISE_USER_SCHEMA]: 'x' }), InvalidValueError, /must be an object/);
  // unknown attribute inside a known extension is ignored like a core extra
  assert.equal(norm({ userName: 'a', [ENTERPRISE_USER_SCHEMA]: { nope: 1 } })[ENTERPRISE_USER_SCHEMA], undefined);
});

test('empty values mean unassigned: null, "", [], {} are removed', () => {
  const out = norm({ userName: 'a', displayName: '', nickName: null, emails: [], name: {}, addresses: [{}], [ENTERPRISE_USER_SCHEMA]: { manager: '' } });
  assert.deepEqual(out, { schemas: [USER_SCHEMA], userName: 'a' });
});

test('password (writeOnly) is kept for the caller', () => {
  assert.equal(norm({ userName: 'a', password: 't1meMa$heen' }).password, 't1meMa$heen');
});

test('open Metadata schema accepts any valid name as a single string, case-insensitively merged', () => {
  const out = norm({ userName: 'a', [METADATA_SCHEMA]: { costCenter: 'x', Seats: 3 }, [`${METADATA_SCHEMA}:COSTCENTER`]: 'y' });
  assert.deepEqual(out[METADATA_SCHEMA], { costCenter: 'y', Seats: '3' });
  assert.deepEqual(out.schemas, [USER_SCHEMA, METADATA_SCHEMA]);
  rejects(() => norm({ userName: 'a', [METADATA_SCHEMA]: { 'bad key': 'x' } }), InvalidValueError, /not a valid Metadata key/);
  rejects(() => norm({ userName: 'a', [METADATA_SCHEMA]: { k: { a: 1 } } }), InvalidValueError, /Metadata:k" must be a string/);
  rejects(() => norm({ userName: 'a', [METADATA_SCHEMA]: { k: ['a', 'b'] } }), InvalidValueError, /single-valued/);
});

test('Group members: array of {value,type,display,$ref} with a non-empty value', () => {
  const out = normalizeResource(groups, {
    schemas: [GROUP_SCHEMA], displayName: 'Eng', id: 'x',
    members: [{ value: 'u1', display: 'Ann', type: 'User', $ref: 'https://h/Users/u1', extra: 1 }, { VALUE: 'u2' }],
  }, 'create');
  assert.deepEqual(out, {
    schemas: [GROUP_SCHEMA], displayName: 'Eng',
    members: [{ value: 'u1', $ref: 'https://h/Users/u1', type: 'User', display: 'Ann' }, { value: 'u2' }],
  });
  rejects(() => normalizeResource(groups, { displayName: 'Eng', members: [{ display: 'no id' }] }, 'create'), InvalidValueError, /"members\[0\]\.value" is required/);
  rejects(() => normalizeResource(groups, { displayName: 'Eng', members: [{ value: 'u1' }, { value: '' }] }, 'create'), InvalidValueError, /"members\[1\]\.value" is required/);
  assert.deepEqual(normalizeResource(groups, { displayName: 'Eng', members: 'u9' }, 'create').members, [{ value: 'u9' }]);
});

test('coerceValue is usable on its own for PATCH values', () => {
  const active = findAttr(CORE_USER_SCHEMA.attributes, 'active')!;
  assert.equal(coerceValue(active, 'False', 'active'), false);
  assert.equal(coerceValue(active, null, 'active'), undefined);
  const emails = findAttr(CORE_USER_SCHEMA.attributes, 'emails')!;
  assert.deepEqual(coerceValue(emails, { Value: 'x', type: 'work' }, 'emails'), [{ value: 'x', type: 'work' }]);
  rejects(() => coerceValue(attr('n', 'integer'), 'x', 'urn:a:n'), InvalidValueError, /"urn:a:n" must be an integer/);
});

test('output is deterministic: externalId then core in schema order then extensions in registry order', () => {
  const out = norm({ [ACME]: { level: 1 }, [ENTERPRISE_USER_SCHEMA]: { department: 'd' }, active: true, userName: 'a', externalId: 'e' });
  assert.deepEqual(Object.keys(out), ['schemas', 'externalId', 'userName', 'active', ENTERPRISE_USER_SCHEMA, ACME]);
  assert.deepEqual(out.schemas, [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, ACME]);
});

// Random valid-ish users, mixing IdP quirks, must normalise to a fixed point.
const caseMix = (s: string) => fc.constantFrom(s, s.toLowerCase(), s.toUpperCase());
const userArb = fc.record({
  userName: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== ''),
  active: fc.constantFrom(true, false, 'True', 'False', 'true', 'false'),
  displayName: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  name: fc.option(fc.record({ givenName: fc.string({ maxLength: 5 }), familyName: fc.option(fc.string({ maxLength: 5 }), { nil: null }) }), { nil: undefined }),
  emails: fc.option(fc.oneof(
    fc.array(fc.record({ value: fc.string({ maxLength: 6 }), type: fc.constantFrom('work', 'home'), primary: fc.constantFrom(true, false, 'True') }), { maxLength: 4 }),
    fc.record({ value: fc.string({ minLength: 1, maxLength: 6 }) }),
  ), { nil: undefined }),
  manager: fc.option(fc.oneof(fc.uuid(), fc.record({ value: fc.uuid(), displayName: fc.string() })), { nil: undefined }),
  employeeNumber: fc.option(fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: 0, max: 99999 })), { nil: undefined }),
  folders: fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.array(fc.string({ maxLength: 4 }))), { nil: undefined }),
  level: fc.option(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 1000 }).map(String)), { nil: undefined }),
  meta: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
  key: fc.tuple(caseMix('userName'), caseMix('displayName')),
  flat: fc.boolean(),
});

test('property: normalizeResource is idempotent', () => {
  fc.assert(fc.property(userArb, (u) => {
    const input: Record<string, unknown> = { [u.key[0]]: u.userName, active: u.active };
    if (u.displayName !== undefined) input[u.key[1]] = u.displayName;
    if (u.name) input.name = u.name;
    if (u.emails !== undefined) input.emails = u.emails;
    if (u.meta !== undefined) input.meta = { version: u.meta };
    const ent: Record<string, unknown> = {};
    if (u.manager !== undefined) ent.manager = u.manager;
    if (u.employeeNumber !== undefined) ent.employeeNumber = u.employeeNumber;
    if (u.flat) for (const [k, v] of Object.entries(ent)) input[`${ENTERPRISE_USER_SCHEMA}:${k}`] = v;
    else input[ENTERPRISE_USER_SCHEMA] = ent;
    if (u.folders !== undefined) input[`${CUSTOM_EXTENSION_SCHEMA}:folders`] = u.folders;
    if (u.level !== undefined) input[ACME] = { level: u.level };
    const once = norm(input);
    const twice = norm(once);
    assert.deepEqual(twice, once);
    assert.deepEqual(normalizeResource(users, twice, 'replace'), once);
    // at most one primary survives
    const emails = (once.emails ?? []) as Array<{ primary?: boolean }>;
    assert.ok(emails.filter((e) => e.primary === true).length <= 1);
    assert.equal(typeof once.active, 'boolean');
  }), { numRuns: 300 });
});

test('multi-valued simple attributes accept Entra\'s [{"value": x}] element shape', () => {
  const rs = buildResourceSchemas('User', []);
  const out = normalizeResource(rs, {
    userName: 'f@x',
    'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders': [{ value: 'Folder 1' }, { value: 'Folder 2' }],
  }, 'create');
  assert.deepEqual((out['urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName'] as Record<string, unknown>).folders, ['Folder 1', 'Folder 2']);
  assert.throws(() => normalizeResource(rs, {
    userName: 'f@x',
    'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders': [{ value: 'a', other: 1 }],
  }, 'create'), /folders/);
});
