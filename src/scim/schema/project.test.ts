import { test } from 'node:test';
import assert from 'node:assert/strict';
import { USER_SCHEMA } from './core-user.js';
import { ENTERPRISE_USER_SCHEMA } from './enterprise-user.js';
import { GROUP_SCHEMA } from './core-group.js';
import { buildResourceSchemas, METADATA_SCHEMA } from './registry.js';
import { parseAttributeList, projectResource, projectSlow } from './project.js';
import type { ResourceSchemas } from './types.js';

const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
const users = buildResourceSchemas('User', [{ schema: ACME, name: 'tier', type: 'string', multiValued: false }]);
const groups = buildResourceSchemas('Group', []);

const user = () => ({
  schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, ACME, METADATA_SCHEMA],
  id: 'u1',
  externalId: 'e1',
  userName: 'bjensen',
  password: 'secret',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  emails: [{ value: 'a@x.io', type: 'work', primary: true }, { value: 'b@x.io', type: 'home' }],
  groups: [{ value: 'g1', display: 'Eng' }],
  [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '7', manager: { value: 'm1', displayName: 'Boss' } },
  [ACME]: { tier: 'Gold' },
  [METADATA_SCHEMA]: { costCenter: 'cc' },
  meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z', lastModified: '2024-01-01T00:00:00Z', location: 'https://h/Users/u1', version: 'W/"1"' },
});

const proj = (rs: ResourceSchemas, r: Record<string, unknown>, attributes?: string, excluded?: string) =>
  projectResource(rs, r, { attributes: parseAttributeList(attributes), excludedAttributes: parseAttributeList(excluded) });

test('parseAttributeList splits, trims and drops empties; accepts repeated params', () => {
  assert.deepEqual(parseAttributeList(undefined), []);
  assert.deepEqual(parseAttributeList(' userName, name.givenName ,,emails '), ['userName', 'name.givenName', 'emails']);
  assert.deepEqual(parseAttributeList(['a,b', 'c']), ['a', 'b', 'c']);
});

test('parseAttributeList: a value filter in a name selects the attribute; commas inside brackets do not split', () => {
  assert.deepEqual(parseAttributeList('emails[type eq "work"]'), ['emails']);
  assert.deepEqual(parseAttributeList('userName,emails[type eq "work" or value co ","],name.givenName'), ['userName', 'emails', 'name.givenName']);
  assert.deepEqual(parseAttributeList('emails[value eq "a]b,c"].value, emails[type eq "x\\"],y"].type'), ['emails.value', 'emails.type']);
  assert.deepEqual(parseAttributeList(['emails[type eq "work"]', 'a']), ['emails', 'a']);
  assert.deepEqual(parseAttributeList('urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "w"]'), ['urn:ietf:params:scim:schemas:core:2.0:User:emails']);
  assert.deepEqual(parseAttributeList('emails[type eq "work"'), ['emails']); // unbalanced: the rest is the filter
});

test('attributes=emails[type eq "work"] (Microsoft Postman) returns the emails attribute', () => {
  const expected = { schemas: user().schemas, id: 'u1', emails: user().emails };
  assert.deepEqual(proj(users, user(), 'emails[type eq "work"]'), expected);
  assert.deepEqual(proj(users, user(), 'emails[value eq "emailName357"]'), expected);
  // Names passed to projectResource directly are cleaned too.
  assert.deepEqual(projectResource(users, user(), { attributes: ['emails[type eq "work"]'] }), expected);
  assert.deepEqual(projectResource(users, user(), { attributes: ['emails[type eq "work"].value'] }).emails, [{ value: 'a@x.io' }, { value: 'b@x.io' }]);
  assert.deepEqual(proj(users, user(), 'userName,emails[type eq "work" and value co ","]'), { ...expected, userName: 'bjensen' });
});

test('default projection: everything except returned=never (password)', () => {
  const out = proj(users, user());
  const expected: Record<string, unknown> = user();
  delete expected.password;
  assert.deepEqual(out, expected);
});

test('attributes= returns only those plus returned=always (id, schemas)', () => {
  assert.deepEqual(proj(users, user(), 'userName'), { schemas: user().schemas, id: 'u1', userName: 'bjensen' });
  assert.deepEqual(proj(users, user(), 'USERNAME,Active'), { schemas: user().schemas, id: 'u1', userName: 'bjensen', active: true });
  // password is never returned even when asked for
  assert.deepEqual(proj(users, user(), 'password'), { schemas: user().schemas, id: 'u1' });
});

test('attributes= with sub-attributes narrows complex values', () => {
  assert.deepEqual(proj(users, user(), 'name.givenName').name, { givenName: 'Barbara' });
  assert.deepEqual(proj(users, user(), 'emails.value').emails, [{ value: 'a@x.io' }, { value: 'b@x.io' }]);
  assert.deepEqual(proj(users, user(), 'emails.value,emails.TYPE').emails, [{ value: 'a@x.io', type: 'work' }, { value: 'b@x.io', type: 'home' }]);
  assert.deepEqual(proj(users, user(), 'meta.lastModified').meta, { lastModified: '2024-01-01T00:00:00Z' });
});

test('attributes= with URN-qualified names and whole extension schemas', () => {
  const a = proj(users, user(), `${ENTERPRISE_USER_SCHEMA}:manager`);
  assert.deepEqual(a[ENTERPRISE_USER_SCHEMA], { manager: { value: 'm1', displayName: 'Boss' } });
  assert.equal(a.userName, undefined);
  const b = proj(users, user(), `${ENTERPRISE_USER_SCHEMA.toLowerCase()}:manager.value`);
  assert.deepEqual(b[ENTERPRISE_USER_SCHEMA], { manager: { value: 'm1' } });
  const c = proj(users, user(), ENTERPRISE_USER_SCHEMA);
  assert.deepEqual(c[ENTERPRISE_USER_SCHEMA], user()[ENTERPRISE_USER_SCHEMA]);
  assert.equal(c[ACME], undefined);
  assert.deepEqual(proj(users, user(), `${USER_SCHEMA}:userName`).userName, 'bjensen');
  assert.deepEqual(proj(users, user(), `${METADATA_SCHEMA}:COSTCENTER`)[METADATA_SCHEMA], { costCenter: 'cc' });
  // unqualified extension attribute name resolves to its extension
  assert.deepEqual(proj(users, user(), 'employeeNumber')[ENTERPRISE_USER_SCHEMA], { employeeNumber: '7' });
});

test('excludedAttributes removes attributes, sub-attributes and extensions but never returned=always', () => {
  const a = proj(users, user(), undefined, 'emails,name.familyName,id,schemas');
  assert.equal(a.emails, undefined);
  assert.deepEqual(a.name, { givenName: 'Barbara' });
  assert.equal(a.id, 'u1');
  assert.ok(a.schemas);
  const b = proj(users, user(), undefined, `${ENTERPRISE_USER_SCHEMA}:manager,${ACME}`);
  assert.deepEqual(b[ENTERPRISE_USER_SCHEMA], { employeeNumber: '7' });
  assert.equal(b[ACME], undefined);
  const c = proj(users, user(), undefined, `${ENTERPRISE_USER_SCHEMA}:manager,${ENTERPRISE_USER_SCHEMA}:employeeNumber`);
  assert.equal(c[ENTERPRISE_USER_SCHEMA], undefined); // emptied extension disappears
});

test('Group: excludedAttributes=members and attributes=displayName', () => {
  const g = { schemas: [GROUP_SCHEMA], id: 'g1', displayName: 'Eng', members: [{ value: 'u1', display: 'Ann' }], meta: { resourceType: 'Group' } };
  assert.deepEqual(proj(groups, g, undefined, 'members'), { schemas: [GROUP_SCHEMA], id: 'g1', displayName: 'Eng', meta: { resourceType: 'Group' } });
  assert.deepEqual(proj(groups, g, 'displayName'), { schemas: [GROUP_SCHEMA], id: 'g1', displayName: 'Eng' });
  assert.deepEqual(proj(groups, g, 'members.value'), { schemas: [GROUP_SCHEMA], id: 'g1', members: [{ value: 'u1' }] });
});

test('returned=request attributes appear only when named', () => {
  const rs: ResourceSchemas = {
    resourceType: 'User',
    core: { ...users.core, attributes: [...users.core.attributes, { ...users.core.attributes[0]!, name: 'secretish', required: false, returned: 'request' }] },
    extensions: users.extensions,
  };
  const r = { ...user(), secretish: 'x' };
  assert.equal(proj(rs, r).secretish, undefined);
  assert.equal(proj(rs, r, undefined, 'emails').secretish, undefined);
  assert.equal(proj(rs, r, 'secretish').secretish, 'x');
});

test('unknown names in attributes/excludedAttributes are ignored', () => {
  assert.deepEqual(proj(users, user(), 'nosuch,urn:x:y:z'), { schemas: user().schemas, id: 'u1' });
  assert.deepEqual(proj(users, user(), undefined, 'nosuch'), proj(users, user()));
});

test('projection does not mutate its input', () => {
  const r = user();
  const before = structuredClone(r);
  proj(users, r, 'name.givenName', 'emails');
  assert.deepEqual(r, before);
});

test('default projection: the fast path returns exactly what the attribute-by-attribute rules return', () => {
  const u = user();
  const { password: _pw, ...noPassword } = u;
  const cases: Record<string, unknown>[] = [
    u, // password (returned: never) must go
    noPassword, // nothing to hide: returned as it is
    { ...noPassword, emails: [] }, // empty multi-valued complex: dropped
    { ...noPassword, emails: [{}] },
    { ...noPassword, name: {} },
    { ...noPassword, [ACME]: {} },
    { ...noPassword, [ACME]: 'not an object' },
    { ...noPassword, [ENTERPRISE_USER_SCHEMA]: { manager: {} } },
    { ...noPassword, PASSWORD: 'x' }, // names are case-insensitive
    { ...noPassword, 'URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER': { userName: 'x' } },
    { ...noPassword, unknownAttr: [] },
    { ...noPassword, 'urn:example:unregistered': { a: 1 } },
  ];
  for (const r of cases) {
    const fast = projectResource(users, structuredClone(r));
    assert.deepEqual(fast, projectSlow(users, structuredClone(r)), JSON.stringify(r).slice(0, 120));
  }
  assert.equal(projectResource(users, u).password, undefined);
  const clean = structuredClone(noPassword);
  assert.equal(projectResource(users, clean), clean, 'nothing to change: no copy');
  const g = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'g', displayName: 'Eng', members: [{ value: 'u1', display: 'B' }] };
  assert.deepEqual(projectResource(groups, structuredClone(g)), projectSlow(groups, structuredClone(g)));
});
