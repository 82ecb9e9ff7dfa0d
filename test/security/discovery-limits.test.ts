/**
 * Every schema URN /ServiceProviderConfig names resolves through /Schemas: the limits extension
 * (issue 17 items 2 and 3 publish server limits there) is listed by /Schemas and by /Schemas/{id},
 * with one integer attribute per published limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';

const SPC = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

eachDatabase((kind) => {
  test('the ServiceProviderConfig limits extension is a resolvable Schema', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}` };
      const get = async (path: string) => {
        const r = await t.app.inject({ url: `${t.scimBase}${path}`, headers: h });
        return { status: r.statusCode, body: r.json() };
      };
      const spc = (await get('/ServiceProviderConfig')).body;
      const extensions = (spc.schemas as string[]).filter((s) => s !== SPC);
      assert.ok(extensions.length > 0, 'the limits extension is advertised');
      const listed = (await get('/Schemas')).body.Resources as { id: string }[];
      for (const urn of extensions) {
        assert.ok(listed.some((s) => s.id === urn), `${urn} is listed by /Schemas`);
        const one = await get(`/Schemas/${encodeURIComponent(urn)}`);
        assert.equal(one.status, 200, `${urn} resolves by id`);
        assert.equal(one.body.id, urn);
        assert.ok((one.body.meta.location as string).endsWith(`${t.scimBase}/Schemas/${urn}`), one.body.meta.location);
        const attrs = one.body.attributes as { name: string; type: string; mutability: string }[];
        const values = spc[urn] as Record<string, unknown>;
        assert.deepEqual(attrs.map((a) => a.name).sort(), Object.keys(values).sort(), 'one attribute per published limit');
        for (const a of attrs) {
          assert.equal(a.type, 'integer');
          assert.equal(a.mutability, 'readOnly');
          assert.ok(Number.isInteger(values[a.name]), `${a.name} is an integer`);
        }
      }
      const upper = await get(`/Schemas/${encodeURIComponent(extensions[0]!.toUpperCase())}`);
      assert.equal(upper.status, 200, 'schema URNs compare case-insensitively');
    } finally {
      await t.close();
    }
  });
});
