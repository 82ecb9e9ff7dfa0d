/**
 * OpenAPI = validation: every admin route's JSON body schema in /admin/v1/openapi.json is the one
 * the server validates with. Walks every operation: each field the document marks required is
 * refused (400, naming it) when absent; each enum refuses a value outside it; and `PUT …/settings`
 * accepts what its document marks optional (an extension attribute without multiValued). Formats
 * (uuid, date-time, email, uri) agree both ways: a documented format is enforced on bodies, query
 * strings and path parameters (a bad value is refused naming the field, a good one is not), and a
 * field whose name says it holds a URL, an e-mail address, a time or an id documents its format
 * (or a pattern) or is listed below with the reason it has none.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eachDatabase, startTestApp, ADMIN_TOKEN, type TestApp } from '../helpers/app.js';

interface Schema {
  type?: string | string[]; required?: string[]; properties?: Record<string, Schema>; enum?: unknown[];
  format?: string; items?: Schema; default?: unknown; minimum?: number; minLength?: number; minItems?: number;
}
interface Param { in: string; name: string; schema?: Schema }
interface Op { parameters?: Param[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }

const FORMATS = ['uuid', 'date-time', 'email', 'uri'] as const;
const GOOD: Record<string, () => string> = {
  uuid: () => randomUUID(),
  'date-time': () => new Date(Date.now() + 86_400_000).toISOString(),
  email: () => 'someone@example.com',
  uri: () => 'https://example.com/x',
};
const BAD: Record<string, string> = { uuid: 'not-a-uuid', 'date-time': 'tomorrow', email: 'not an address', uri: 'not a uri' };

/**
 * Fields whose names say URL / e-mail / time / id but that document no format, and why. Each is
 * checked in code with its own message, and accepts values a schema format would refuse.
 */
const NO_FORMAT: Record<string, string> = {
  externalId: 'the IdP\'s identifier, free text (RFC 7643)',
  clientId: 'issued by the IdP, free text',
  resourceId: 'the id a SCIM request named, as sent (unknown or malformed ids are logged too)',
  discoveryUrl: 'an empty string means "derive from the issuer"; checked as an absolute URL in code',
  jwksUri: 'an empty string means "from the discovery document"; checked as an absolute URL in code',
  idpMetadataUrl: 'checked in code (absolute https URL, fetched through the outbound guard)',
  uri: 'an RFC 8252 redirect URI, checked in code (custom schemes, loopback ports)',
  targetId: 'audit-log filter: the id of whatever an action touched, of several kinds, as recorded',
};
const formatLike = (name: string) => /(url|uri)$/i.test(name) || /email$/i.test(name) || /At$/.test(name) || /Id$/.test(name);

/** A value the schema accepts (required properties only), as far as type, enum and format go. */
function sample(s: Schema | undefined): unknown {
  if (!s) return null;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum.find((v) => v !== null) ?? null;
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  switch (type) {
    case 'string': return s.format && GOOD[s.format] ? GOOD[s.format]!() : 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'boolean': return true;
    case 'integer': case 'number': return s.minimum ?? 1;
    case 'array': return Array.from({ length: s.minItems ?? 0 }, () => sample(s.items));
    case 'object': return Object.fromEntries((s.required ?? []).map((k) => [k, sample(s.properties?.[k])]));
    default: return null;
  }
}

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

    it('every admin route: documented formats (uuid, date-time, email, uri) are enforced, and format-like fields document one', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' })).json() as { paths: Record<string, Record<string, Op>> };
      const tn = await t.newTenant('openapi formats');
      const urlOf = (path: string) => path.replace('{tenantId}', tn.tenantId).replace(/\{[^}]+\}/g, () => randomUUID());
      const checked: Record<string, number> = { body: 0, query: 0, path: 0 };
      const undocumented: string[] = [];
      const names = (where: string, s: Schema | undefined) => {
        for (const [name, prop] of Object.entries(s?.properties ?? {})) {
          const type = Array.isArray(prop.type) ? prop.type : [prop.type];
          // a pattern documents the shape too (e.g. a tenant id or "operator")
          if (type.includes('string') && !prop.format && !(prop as { pattern?: string }).pattern && formatLike(name) && !NO_FORMAT[name]) undocumented.push(`${where}.${name}`);
          names(`${where}.${name}`, prop);
          if (prop.items) names(`${where}.${name}[]`, prop.items);
        }
      };
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const M = method.toUpperCase();
          const body = op.requestBody?.content?.['application/json']?.schema;
          names(`${M} ${path} body`, body);
          // body: a good value is not refused for its format; a bad one is, naming the field
          for (const [name, prop] of Object.entries(body?.properties ?? {})) {
            if (!prop.format || !FORMATS.includes(prop.format as never)) continue;
            const base = sample(body) as Record<string, unknown>;
            const good = await send(method, urlOf(path), { ...base, [name]: GOOD[prop.format]!() });
            assert.ok(!(good.status === 400 && good.text.includes(name) && /format/.test(good.text)),
              `${M} ${path}: a valid ${prop.format} in ${name} is refused: ${good.text}`);
            const bad = await send(method, urlOf(path), { ...base, [name]: BAD[prop.format] });
            assert.equal(bad.status, 400, `${M} ${path} with ${name} = ${BAD[prop.format]}: ${bad.status} ${bad.text}`);
            assert.match(bad.text, new RegExp(name), `${M} ${path}: the refusal names ${name}`);
            checked.body!++;
          }
          const call = async (url: string): Promise<{ statusCode: number; body: string }> =>
            t.app.inject({ method: M as 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
          // query strings and path parameters: checked on reads and deletes (no body to build)
          if (M !== 'GET' && M !== 'DELETE') continue;
          for (const p of op.parameters ?? []) {
            if (p.in === 'query') names(`${M} ${path} query`, { properties: { [p.name]: p.schema ?? {} } });
            const f = p.schema?.format;
            if (!f || !FORMATS.includes(f as never)) continue;
            if (p.in === 'query') {
              const ok = await call(`${urlOf(path)}?${p.name}=${encodeURIComponent(GOOD[f]!())}`);
              assert.ok(!(ok.statusCode === 400 && ok.body.includes(p.name)), `${M} ${path}?${p.name}: a valid ${f} is refused: ${ok.body}`);
              const r = await call(`${urlOf(path)}?${p.name}=${encodeURIComponent(BAD[f]!)}`);
              assert.equal(r.statusCode, 400, `${M} ${path}?${p.name}=${BAD[f]}: ${r.statusCode} ${r.body}`);
              assert.match(r.body, new RegExp(p.name));
              checked.query!++;
            } else if (p.in === 'path') {
              const url = urlOf(path.replace(`{${p.name}}`, BAD[f]!));
              const r = await call(url);
              assert.equal(r.statusCode, 400, `${M} ${path} with ${p.name} = ${BAD[f]}: ${r.statusCode} ${r.body}`);
              assert.match(r.body, new RegExp(p.name));
              checked.path!++;
            }
          }
        }
      }
      assert.deepEqual(undocumented, [], 'fields named like a URL, e-mail, time or id document their format (or are listed in NO_FORMAT with a reason)');
      assert.ok(checked.body! >= 4, `body formats checked: ${JSON.stringify(checked)}`);
      assert.ok(checked.query! >= 2 && checked.path! >= 20, `formats checked: ${JSON.stringify(checked)}`);
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
