/**
 * OpenAPI = validation: every admin route's JSON body schema in /admin/v1/openapi.json is the one
 * the server validates with. Walks every operation: each field the document marks required is
 * refused (400, naming it) when absent; each enum refuses a value outside it; and `PUT …/settings`
 * accepts what its document marks optional (an extension attribute without multiValued).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eachDatabase, startTestApp, ADMIN_TOKEN, type TestApp } from '../helpers/app.js';

interface Schema { type?: string | string[]; required?: string[]; properties?: Record<string, Schema>; enum?: unknown[] }

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  const send = async (method: string, url: string, payload: unknown) => {
    const r = await t.app.inject({ method: method.toUpperCase() as 'POST', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    return { status: r.statusCode, text: r.body };
  };

  describe('OpenAPI document and validator agree', () => {
    it('every admin route: required fields and enums are enforced as documented', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' })).json() as {
        paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
      };
      let requiredChecked = 0;
      let enumsChecked = 0;
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const schema = op.requestBody?.content?.['application/json']?.schema;
          if (!schema?.properties) continue;
          // a tenant that exists; any other path parameter a fresh uuid (validation comes first)
          const url = path.replace('{tenantId}', t.tenantId).replace(/\{[^}]+\}/g, () => randomUUID());
          const required = schema.required ?? [];
          for (const field of required) {
            // Only presence is checked before the properties, so the others may hold anything.
            const body = Object.fromEntries(required.filter((k) => k !== field).map((k) => [k, null]));
            const r = await send(method, url, body);
            assert.equal(r.status, 400, `${method.toUpperCase()} ${path} without ${field}: ${r.status} ${r.text}`);
            assert.match(r.text, new RegExp(field), `${method.toUpperCase()} ${path}: the refusal names ${field}`);
            requiredChecked++;
          }
          const names = Object.keys(schema.properties);
          for (const [name, prop] of Object.entries(schema.properties)) {
            if (!prop.enum) continue;
            const body: Record<string, unknown> = Object.fromEntries(required.map((k) => [k, null]));
            body[name] = '__not_in_the_enum__';
            const r = await send(method, url, body);
            assert.equal(r.status, 400, `${method.toUpperCase()} ${path} with ${name} outside its enum: ${r.status} ${r.text}`);
            // properties are checked in document order: the first failing one is named
            if (required.every((k) => names.indexOf(k) > names.indexOf(name))) assert.match(r.text, new RegExp(name));
            enumsChecked++;
          }
        }
      }
      assert.ok(requiredChecked >= 10, `required fields checked: ${requiredChecked}`);
      assert.ok(enumsChecked >= 3, `enums checked: ${enumsChecked}`);
    });

    it('PUT …/settings: an extension attribute without multiValued is accepted (single-valued), as documented', async () => {
      const tn = await t.newTenant('openapi');
      const url = `/admin/v1/tenants/${tn.tenantId}/settings`;
      const doc = (await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' })).json();
      const item = doc.paths['/admin/v1/tenants/{tenantId}/settings'].put.requestBody.content['application/json'].schema.properties.extensionAttributes.items;
      assert.ok(!item.required.includes('multiValued'), 'documented as optional');
      assert.equal(item.properties.multiValued.default, false, 'documented default');
      const ok = await send('put', url, { extensionAttributes: [{ schema: 'urn:ietf:params:scim:schemas:extension:2.0:Acme', name: 'costCenter', type: 'string' }] });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(JSON.parse(ok.text).extensionAttributes[0].multiValued, false);
      // merge: a later PUT of another field keeps the attribute
      assert.equal((await send('put', url, { logRetentionDays: 7 })).status, 200);
      const got = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(got.json().extensionAttributes.length, 1);
      // canonicalValues: the document says non-empty; so does the validator
      const empty = await send('put', url, { extensionAttributes: [{ schema: 'urn:ietf:params:scim:schemas:extension:2.0:Acme', name: 'tier', type: 'string', canonicalValues: [] }] });
      assert.equal(empty.status, 400);
      const after = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(after.json().extensionAttributes[0].name, 'costCenter', 'a refused PUT changes nothing');
    });
  });
});
