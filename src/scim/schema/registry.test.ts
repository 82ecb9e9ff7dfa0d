import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidValueError } from '../errors.js';
import { CORE_GROUP_SCHEMA, GROUP_SCHEMA } from './core-group.js';
import { CORE_USER_SCHEMA, USER_SCHEMA } from './core-user.js';
import { ENTERPRISE_USER_SCHEMA } from './enterprise-user.js';
import {
  allSchemas, buildResourceSchemas, CUSTOM_EXTENSION_SCHEMA, METADATA_SCHEMA, parseAttributeText,
  resolveAttribute, resolveSchemaUrn, validateExtensionAttribute, validateExtensionAttributes,
  type TenantExtensionAttribute,
} from './registry.js';
import { findAttr } from './common.js';

const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';

test('core User schema has every RFC 7643 §8.7.1 attribute with the RFC characteristics', () => {
  const names = CORE_USER_SCHEMA.attributes.map((a) => a.name);
  assert.deepEqual(names, [
    'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage',
    'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses',
    'groups', 'entitlements', 'roles', 'x509Certificates',
  ]);
  const userName = findAttr(CORE_USER_SCHEMA.attributes, 'userName')!;
  assert.equal(userName.required, true);
  assert.equal(userName.uniqueness, 'server');
  assert.equal(userName.caseExact, false);
  assert.equal(userName.returned, 'default');
  const password = findAttr(CORE_USER_SCHEMA.attributes, 'password')!;
  assert.equal(password.mutability, 'writeOnly');
  assert.equal(password.returned, 'never');
  assert.equal(findAttr(CORE_USER_SCHEMA.attributes, 'groups')!.mutability, 'readOnly');
  assert.deepEqual(findAttr(CORE_USER_SCHEMA.attributes, 'name')!.subAttributes!.map((s) => s.name),
    ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix']);
  const x509 = findAttr(CORE_USER_SCHEMA.attributes, 'x509Certificates')!;
  assert.equal(findAttr(x509.subAttributes, 'value')!.type, 'binary');
  assert.deepEqual(findAttr(findAttr(CORE_USER_SCHEMA.attributes, 'emails')!.subAttributes, 'type')!.canonicalValues, ['work', 'home', 'other']);
  assert.equal(findAttr(CORE_USER_SCHEMA.attributes, 'profileUrl')!.type, 'reference');
});

test('Group schema: displayName required, members value/$ref/type/display', () => {
  assert.equal(CORE_GROUP_SCHEMA.id, GROUP_SCHEMA);
  assert.equal(findAttr(CORE_GROUP_SCHEMA.attributes, 'displayName')!.required, true);
  const members = findAttr(CORE_GROUP_SCHEMA.attributes, 'members')!;
  assert.equal(members.multiValued, true);
  assert.deepEqual(members.subAttributes!.map((s) => s.name), ['value', '$ref', 'type', 'display']);
});

test('schema definitions are frozen so tenants cannot corrupt shared state', () => {
  assert.throws(() => { (CORE_USER_SCHEMA.attributes as unknown[]).push({}); }, TypeError);
  assert.throws(() => { (findAttr(CORE_USER_SCHEMA.attributes, 'userName') as { required: boolean }).required = false; }, TypeError);
});

test('User schemas: core + enterprise + CustomExtensionName(folders) + open Metadata + tenant schemas', () => {
  const rs = buildResourceSchemas('User', [
    { schema: ACME, name: 'costCode', type: 'string', multiValued: false },
    { schema: CUSTOM_EXTENSION_SCHEMA, name: 'region', type: 'string', multiValued: false },
    { schema: ACME, name: 'level', type: 'integer', multiValued: false, resourceType: 'Group' },
  ]);
  assert.equal(rs.core.id, USER_SCHEMA);
  assert.deepEqual(rs.extensions.map((e) => e.id), [ENTERPRISE_USER_SCHEMA, CUSTOM_EXTENSION_SCHEMA, METADATA_SCHEMA, ACME]);
  const custom = rs.extensions[1]!;
  assert.deepEqual(custom.attributes.map((a) => a.name), ['folders', 'region']);
  assert.equal(custom.attributes[0]!.multiValued, true);
  assert.equal(rs.extensions[2]!.open, true);
  assert.deepEqual(rs.extensions[3]!.attributes.map((a) => a.name), ['costCode']); // Group attr excluded
  assert.equal(rs.extensions[3]!.name, 'Acme');
  assert.equal(allSchemas(rs).length, 5);
});

test('Group schemas: core only, plus tenant attributes declared for Group', () => {
  assert.deepEqual(buildResourceSchemas('Group', []).extensions, []);
  const rs = buildResourceSchemas('Group', [{ schema: ACME, name: 'level', type: 'integer', multiValued: false, resourceType: 'Group' }]);
  assert.equal(rs.core.id, GROUP_SCHEMA);
  assert.deepEqual(rs.extensions.map((e) => e.id), [ACME]);
});

test('grantsAttribute renames the built-in grants attribute or adds it to another extension', () => {
  const renamed = buildResourceSchemas('User', [], { grantsAttribute: `${CUSTOM_EXTENSION_SCHEMA}:datasets` });
  const custom = renamed.extensions.find((e) => e.id === CUSTOM_EXTENSION_SCHEMA)!;
  assert.deepEqual(custom.attributes.map((a) => a.name), ['folders', 'datasets']);
  const other = buildResourceSchemas('User', [], { grantsAttribute: 'urn:ietf:params:scim:schemas:extension:2.0:Access:sets' });
  const access = resolveAttribute(other, { urn: 'urn:ietf:params:scim:schemas:extension:2.0:Access', attr: 'sets' });
  assert.ok(access);
  assert.equal(access.attr.multiValued, true);
  assert.throws(() => buildResourceSchemas('User', [], { grantsAttribute: 'folders' }), InvalidValueError);
  // An existing enterprise attribute may be used as-is.
  assert.doesNotThrow(() => buildResourceSchemas('User', [], { grantsAttribute: `${ENTERPRISE_USER_SCHEMA}:department` }));
});

test('validateExtensionAttribute enforces the URN form, names, types and canonicalValues', () => {
  const ok: TenantExtensionAttribute = { schema: ACME, name: 'tier', type: 'string', multiValued: false, canonicalValues: ['gold'] };
  assert.doesNotThrow(() => validateExtensionAttribute(ok));
  const bad: Array<[Partial<TenantExtensionAttribute>, RegExp]> = [
    [{ schema: 'urn:acme:Ext' }, /schema must have the form/],
    [{ schema: 'urn:ietf:params:scim:schemas:extension:2.0:Ac:me' }, /schema must have the form/],
    [{ schema: METADATA_SCHEMA }, /open schema/],
    [{ name: '1abc' }, /name must start with a letter/],
    [{ name: 'a.b' }, /name must start/],
    [{ type: 'complex' }, /complex is not supported/],
    [{ multiValued: 'yes' as unknown as boolean }, /multiValued must be a boolean/],
    [{ type: 'integer', canonicalValues: ['1'] }, /only supported for string/],
    [{ canonicalValues: [] }, /non-empty array/],
    [{ resourceType: 'Device' as 'User' }, /resourceType/],
  ];
  for (const [patch, re] of bad) {
    assert.throws(() => validateExtensionAttribute({ ...ok, ...patch } as TenantExtensionAttribute), (e: unknown) => e instanceof InvalidValueError && re.test(e.message), JSON.stringify(patch));
  }
});

test('validateExtensionAttributes rejects duplicates and clashes with built-ins', () => {
  const a: TenantExtensionAttribute = { schema: ACME, name: 'tier', type: 'string', multiValued: false };
  assert.throws(() => validateExtensionAttributes([a, { ...a, name: 'TIER' }]), /declared twice/);
  assert.throws(() => validateExtensionAttributes([{ ...a, schema: CUSTOM_EXTENSION_SCHEMA, name: 'Folders' }]), /clashes/);
  assert.doesNotThrow(() => validateExtensionAttributes([a, { ...a, resourceType: 'Group' }]));
});

test('invalid stored tenant attributes are skipped, not fatal', () => {
  const rs = buildResourceSchemas('User', [{ schema: 'nope', name: 'x', type: 'string', multiValued: false }]);
  assert.equal(rs.extensions.length, 3);
});

test('resolveAttribute: case-insensitive, core first, extensions, common attributes, subs', () => {
  const rs = buildResourceSchemas('User', [{ schema: ACME, name: 'title', type: 'string', multiValued: false }]);
  const t = resolveAttribute(rs, { attr: 'TITLE' })!;
  assert.equal(t.schema.id, USER_SCHEMA); // core wins over the tenant's Acme:title
  assert.equal(t.isExtension, false);
  const acme = resolveAttribute(rs, { urn: ACME.toUpperCase(), attr: 'title' })!;
  assert.equal(acme.schema.id, ACME);
  assert.equal(acme.isExtension, true);
  const mgr = resolveAttribute(rs, { attr: 'manager', sub: 'VALUE' })!;
  assert.equal(mgr.schema.id, ENTERPRISE_USER_SCHEMA);
  assert.equal(mgr.sub!.name, 'value');
  assert.equal(resolveAttribute(rs, { attr: 'name', sub: 'givenname' })!.sub!.name, 'givenName');
  assert.equal(resolveAttribute(rs, { attr: 'externalid' })!.attr.name, 'externalId');
  assert.equal(resolveAttribute(rs, { attr: 'meta', sub: 'lastmodified' })!.sub!.type, 'dateTime');
  assert.equal(resolveAttribute(rs, { urn: USER_SCHEMA, attr: 'id' })!.attr.returned, 'always');
  assert.equal(resolveAttribute(rs, { attr: 'nosuch' }), undefined);
  assert.equal(resolveAttribute(rs, { attr: 'name', sub: 'nosuch' }), undefined);
  assert.equal(resolveAttribute(rs, { attr: 'userName', sub: 'x' }), undefined);
  assert.equal(resolveAttribute(rs, { urn: 'urn:unknown:2.0:X', attr: 'userName' }), undefined);
  // unsplit fully-qualified name
  assert.equal(resolveAttribute(rs, { attr: `${ENTERPRISE_USER_SCHEMA}:employeeNumber` })!.attr.name, 'employeeNumber');
});

test('open Metadata schema: any name with its URN, never without', () => {
  const rs = buildResourceSchemas('User', []);
  const r = resolveAttribute(rs, { urn: METADATA_SCHEMA, attr: 'costCenterCode' })!;
  assert.equal(r.attr.name, 'costCenterCode');
  assert.equal(r.attr.type, 'string');
  assert.equal(r.attr.multiValued, false);
  assert.equal(r.isExtension, true);
  assert.equal(resolveAttribute(rs, { attr: 'costCenterCode' }), undefined);
  assert.equal(resolveAttribute(rs, { urn: METADATA_SCHEMA, attr: 'x', sub: 'y' }), undefined);
});

test('resolveSchemaUrn handles a schema id mis-split as urn + attr', () => {
  const rs = buildResourceSchemas('User', []);
  const path = { urn: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0', attr: 'User' };
  assert.equal(resolveAttribute(rs, path), undefined);
  assert.equal(resolveSchemaUrn(rs, `${path.urn}:${path.attr}`)!.id, ENTERPRISE_USER_SCHEMA);
  assert.equal(resolveSchemaUrn(rs, ENTERPRISE_USER_SCHEMA.toLowerCase())!.id, ENTERPRISE_USER_SCHEMA);
  assert.equal(resolveSchemaUrn(rs, 'urn:nope'), undefined);
});

test('parseAttributeText uses known schema ids so "2.0" is not a sub-attribute separator', () => {
  const rs = buildResourceSchemas('User', []);
  assert.deepEqual(parseAttributeText(rs, `${ENTERPRISE_USER_SCHEMA}:manager.value`), { urn: ENTERPRISE_USER_SCHEMA, attr: 'manager', sub: 'value' });
  assert.deepEqual(parseAttributeText(rs, ENTERPRISE_USER_SCHEMA), { urn: ENTERPRISE_USER_SCHEMA });
  assert.deepEqual(parseAttributeText(rs, 'name.givenName'), { attr: 'name', sub: 'givenName' });
  assert.deepEqual(parseAttributeText(rs, 'urn:x:y:2.0:Z:attr'), { urn: 'urn:x:y:2.0:Z', attr: 'attr' });
});
