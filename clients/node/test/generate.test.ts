// The committed admin types are what the generator makes from today's OpenAPI document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateAdminTypes, OUTPUT, renderAdminTypes, tsType } from '../scripts/generate.js';

test('src/admin-types.ts is up to date with GET /admin/v1/openapi.json (regenerate: node --import tsx clients/node/scripts/generate.ts)', async () => {
  const fresh = await generateAdminTypes();
  assert.equal(readFileSync(OUTPUT, 'utf8'), fresh);
  assert.match(fresh, /"\/tenants\/\{tenantId\}\/sso\/redirect-uris": \{/);
  assert.match(fresh, /"\/tenants\/\{tenantId\}\/users\/\{userId\}\/login-method": \{/);
});

test('schema → type: nullable, enums with null, anyOf, maps, required', () => {
  assert.equal(tsType({ type: 'string', nullable: true }), 'string | null');
  assert.equal(tsType({ type: 'string', enum: ['a', 'b', null], nullable: true }), '"a" | "b" | null');
  assert.equal(tsType({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }), 'string | Array<string>');
  assert.equal(tsType({ type: 'object', additionalProperties: { type: 'string' } }), 'Record<string, string>');
  assert.equal(tsType({ type: 'object', required: ['a'], properties: { a: { type: 'integer' }, b: { type: 'boolean' } } }), '{\n  a: number;\n  b?: boolean;\n}');
  const out = renderAdminTypes({ paths: { '/admin/v1/x/{id}': { delete: { parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }], responses: { 204: {} } } } } });
  assert.match(out, /"\/x\/\{id\}": \{\n {4}delete: \{\n {6}path: \{\n {8}id: string;/);
  assert.match(out, /status: 204;\n {6}response: void;/);
});
