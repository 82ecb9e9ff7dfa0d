import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResourceSchemas, CUSTOM_EXTENSION_SCHEMA, METADATA_SCHEMA } from '../schema/registry.js';
import { USER_SCHEMA } from '../schema/core-user.js';
import { GROUP_SCHEMA } from '../schema/core-group.js';
import { ENTERPRISE_USER_SCHEMA } from '../schema/enterprise-user.js';
import {
  findSchemaResource, LIST_RESPONSE_SCHEMA, resourceType, resourceTypes, schemaResources, serviceProviderConfig,
} from './index.js';

const BASE = 'https://idp.example.com/scim/v2/t1';
const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
const users = buildResourceSchemas('User', [
  { schema: ACME, name: 'tier', type: 'string', multiValued: false, canonicalValues: ['Gold'], required: true },
  { schema: ACME, name: 'rank', type: 'integer', multiValued: false, resourceType: 'Group' },
]);
const groups = buildResourceSchemas('Group', [{ schema: ACME, name: 'rank', type: 'integer', multiValued: false, resourceType: 'Group' }]);

test('ServiceProviderConfig has the RFC 7643 §5 shape and our capabilities', () => {
  const spc = serviceProviderConfig({ baseUrl: `${BASE}/`, bulk: { maxOperations: 1000, maxPayloadSize: 1048576 }, filterMaxResults: 200 });
  assert.deepEqual(spc.schemas, ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig']);
  assert.deepEqual(spc.patch, { supported: true });
  assert.deepEqual(spc.bulk, { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 });
  assert.deepEqual(spc.filter, { supported: true, maxResults: 200 });
  assert.deepEqual(spc.changePassword, { supported: true });
  assert.deepEqual(spc.sort, { supported: true });
  assert.deepEqual(spc.etag, { supported: true });
  const schemes = spc.authenticationSchemes as Array<Record<string, unknown>>;
  assert.deepEqual(schemes.map((s) => [s.type, s.primary ?? false]), [['oauthbearertoken', true], ['httpbasic', false]]);
  for (const s of schemes) for (const k of ['name', 'description', 'specUri']) assert.equal(typeof s[k], 'string');
  assert.deepEqual(spc.meta, { resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` });
  assert.equal('documentationUri' in spc, false);
  const withDoc = serviceProviderConfig({ baseUrl: BASE, bulk: { maxOperations: 1, maxPayloadSize: 1 }, filterMaxResults: 1, documentationUri: 'https://docs.example.com/scim' });
  assert.equal(withDoc.documentationUri, 'https://docs.example.com/scim');
});

test('ResourceTypes: ListResponse and single, with schemaExtensions', () => {
  const list = resourceTypes(BASE, users, groups);
  assert.deepEqual(list.schemas, [LIST_RESPONSE_SCHEMA]);
  assert.equal(list.totalResults, 2);
  assert.equal(list.itemsPerPage, 2);
  assert.equal(list.startIndex, 1);
  const [u, g] = list.Resources;
  assert.deepEqual(u, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User', name: 'User', endpoint: '/Users', description: 'User Account', schema: USER_SCHEMA,
    schemaExtensions: [
      { schema: ENTERPRISE_USER_SCHEMA, required: false },
      { schema: CUSTOM_EXTENSION_SCHEMA, required: false },
      { schema: METADATA_SCHEMA, required: false },
      { schema: ACME, required: true },
    ],
    meta: { location: `${BASE}/ResourceTypes/User`, resourceType: 'ResourceType' },
  });
  assert.equal(g!.id, 'Group');
  assert.equal(g!.endpoint, '/Groups');
  assert.equal(g!.schema, GROUP_SCHEMA);
  assert.deepEqual(g!.schemaExtensions, [{ schema: ACME, required: false }]);
  assert.deepEqual(resourceType(BASE, users, groups, 'Group'), g);
  assert.equal(resourceType(BASE, users, groups, 'Device'), undefined);
  assert.equal('schemaExtensions' in resourceTypes(BASE, users, buildResourceSchemas('Group', [])).Resources[1]!, false);
});

test('Schemas: every schema once, RFC 7643 §7 characteristics, tenant extensions included', () => {
  const list = schemaResources(BASE, [users, groups]);
  assert.deepEqual(list.schemas, [LIST_RESPONSE_SCHEMA]);
  const ids = list.Resources.map((s) => s.id);
  assert.deepEqual(ids, [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, CUSTOM_EXTENSION_SCHEMA, METADATA_SCHEMA, ACME, GROUP_SCHEMA]);
  assert.equal(list.totalResults, 6);
  const userSchema = list.Resources[0]!;
  assert.deepEqual(userSchema.schemas, ['urn:ietf:params:scim:schemas:core:2.0:Schema']);
  assert.deepEqual(userSchema.meta, { resourceType: 'Schema', location: `${BASE}/Schemas/${USER_SCHEMA}` });
  const attrs = userSchema.attributes as Array<Record<string, unknown>>;
  assert.deepEqual(attrs[0], {
    name: 'userName', type: 'string', multiValued: false, description: attrs[0]!.description, required: true,
    caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'server',
  });
  const emails = attrs.find((a) => a.name === 'emails')!;
  const emailSubs = emails.subAttributes as Array<Record<string, unknown>>;
  assert.deepEqual(emailSubs.map((s) => s.name), ['value', 'display', 'type', 'primary']);
  assert.deepEqual(emailSubs[2]!.canonicalValues, ['work', 'home', 'other']);
  assert.deepEqual(attrs.find((a) => a.name === 'profileUrl')!.referenceTypes, ['external']);
  // Common attributes are not part of any schema (RFC 7643 §3.1).
  assert.equal(attrs.some((a) => a.name === 'id' || a.name === 'meta'), false);
  const acme = list.Resources.find((s) => s.id === ACME)!;
  const tier = (acme.attributes as Array<Record<string, unknown>>)[0]!;
  assert.deepEqual(tier.canonicalValues, ['Gold']);
  assert.equal(tier.required, true);
  assert.equal('strictCanonicalValues' in tier, false);
  assert.deepEqual((acme.attributes as unknown[]).length, 1); // User's Acme only; Group's rank deduped away
});

test('Schemas by id: case-insensitive, undefined when unknown', () => {
  const s = findSchemaResource(BASE, [users, groups], ENTERPRISE_USER_SCHEMA.toUpperCase());
  assert.equal(s!.id, ENTERPRISE_USER_SCHEMA);
  assert.deepEqual((s!.attributes as Array<{ name: string }>).map((a) => a.name), ['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager']);
  assert.equal(findSchemaResource(BASE, [users, groups], 'urn:nope'), undefined);
});

test('discovery output is plain JSON (no shared references to frozen definitions)', () => {
  const list = schemaResources(BASE, [users]);
  const json = JSON.parse(JSON.stringify(list));
  assert.deepEqual(json, list);
  (list.Resources[0]!.attributes as Array<Record<string, unknown>>)[0]!.name = 'mutated';
  const again = schemaResources(BASE, [users]).Resources[0]!.attributes as Array<{ name: string }>;
  assert.equal(again[0]!.name, 'userName');
});
