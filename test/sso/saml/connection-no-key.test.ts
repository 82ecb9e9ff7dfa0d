// A SAML connection on a server without an installation key (PostgreSQL with IDPBRIDGE_SECRET_KEY
// unset; PGlite always has a key): its SP key pairs cannot be stored, so it works unsigned and
// unencrypted, but the IdP metadata it is given is stored like anywhere else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../../helpers/app.js';
import { freshDatabase } from '../../upgrade/fresh-db.js';
import { migrate } from '../../../src/db/migrate.js';
import { TestSamlIdp } from './helpers/idp.js';

eachDatabase((kind) => {
  test('without an installation key, IdP metadata pasted on create and on PATCH is stored', { skip: kind !== 'postgres' && 'PGlite always has a key' }, async () => {
    // A database of its own: the shared one holds encrypted rows, which a server without a key refuses to start on.
    const fresh = await freshDatabase(kind, 'fix_nokey');
    try {
      await migrate(fresh.db);
      const t = await startTestApp(kind, { secretKey: undefined }, { db: fresh.db });
      try {
        assert.equal(t.deps.secrets.enabled, false);
        const call = async (method: 'POST' | 'PATCH', url: string, payload: object) => {
          const r = await t.app.inject({ method, url: `/admin/v1/tenants/${t.tenantId}${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, payload });
          assert.ok(r.statusCode < 300, r.body);
          return r.json();
        };
        const first = new TestSamlIdp();
        const created = await call('POST', '/connections', { type: 'saml', idpMetadataXml: first.metadata() });
        assert.equal(created.saml.idpEntityId, first.entityId);
        assert.equal(created.saml.ready, true);
        assert.equal(created.saml.spSigningCertificate, null);
        const second = new TestSamlIdp({ entityId: 'https://idp.second.example/saml' });
        const changed = await call('PATCH', `/connections/${created.id}`, { idpMetadataXml: second.metadata() });
        assert.equal(changed.saml.idpEntityId, second.entityId);
      } finally {
        await t.close();
      }
    } finally {
      await fresh.drop();
    }
  });
});
