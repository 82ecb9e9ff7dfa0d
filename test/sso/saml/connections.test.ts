// Sign-in connections: the migration turns an existing OIDC configuration into the tenant's first
// connection; the admin API lists, creates, changes and deletes OIDC and SAML connections, reads
// SAML IdP metadata pasted or by URL (through the outbound-address guard), and refuses bad input
// without changing anything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { eachDatabase, startTestApp, type TestApp } from '../../helpers/app.js';
import { apis } from '../../idp-tokens/helpers/setup.js';
import { freshDatabase } from '../../upgrade/fresh-db.js';
import { loadMigrations, migrate } from '../../../src/db/migrate.js';
import { TestSamlIdp } from './helpers/idp.js';

const OIDC = {
  provider: 'okta', issuer: 'https://acme.okta.example/oauth2/default', jwksUri: 'https://acme.okta.example/oauth2/default/v1/keys', audience: 'api://acme',
};

eachDatabase((kind) => {
  test('migration sso_connections: an existing OIDC configuration becomes the tenant\'s first connection', async () => {
    const fresh = await freshDatabase(kind, 'conn');
    try {
      const connections = loadMigrations().find((m) => m.name.endsWith('_sso_connections.sql'))!.version;
      const before = loadMigrations().filter((m) => m.version < connections).at(-1)!.version;
      await migrate(fresh.db, { upTo: before });
      const [withOidc, without] = [randomUUID(), randomUUID()];
      await fresh.db.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'a'), ($2, 'b')`, [withOidc, without]);
      await fresh.db.query(
        `INSERT INTO idp_oidc_configs (tenant_id, provider, issuer, audiences, algorithms, identity_claims)
         VALUES ($1, 'okta', 'https://idp.example', '["api"]', '["RS256"]', '[]')`, [withOidc]);
      await migrate(fresh.db);
      const { rows } = await fresh.db.query<{ tenant_id: string; type: string; name: string }>('SELECT tenant_id, type, name FROM sso_connections');
      assert.deepEqual(rows.map((r) => ({ ...r })), [{ tenant_id: withOidc, type: 'oidc', name: 'OIDC' }]);
    } finally {
      await fresh.drop();
    }
  });

  let t: TestApp;
  let api: ReturnType<typeof apis>;
  let metadataServer: Server;
  let metadataUrl: string;
  const idp = new TestSamlIdp();

  before(async () => {
    t = await startTestApp(kind);
    api = apis(t);
    metadataServer = createServer((req, res) => {
      if (req.url === '/metadata') res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idp.metadata());
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => metadataServer.listen(0, '127.0.0.1', r));
    metadataUrl = `http://127.0.0.1:${(metadataServer.address() as { port: number }).port}/metadata`;
  });

  after(async () => {
    await t?.close();
    await new Promise((r) => metadataServer?.close(r));
  });

  test('the OIDC configuration appears as a connection; deleting that connection removes the configuration', async () => {
    const { tenantId } = await t.newTenant('oidc-conn');
    assert.deepEqual(await api.ok('GET', `/tenants/${tenantId}/connections`), []);
    await api.ok('PUT', `/tenants/${tenantId}/oidc`, OIDC);
    const list = await api.ok('GET', `/tenants/${tenantId}/connections`);
    assert.equal(list.length, 1);
    assert.equal(list[0].type, 'oidc');
    assert.match(list[0].oidc.callbackUrl, new RegExp(`/sso/${tenantId}/callback$`));
    assert.deepEqual(await api.ok('GET', `/tenants/${tenantId}/connections`), list, 'listing again adds nothing');
    const second = await api.admin('POST', `/tenants/${tenantId}/connections`, { type: 'oidc' });
    assert.equal(second.statusCode, 409);
    const samlOnOidc = await api.admin('PATCH', `/tenants/${tenantId}/connections/${list[0].id}`, { idpMetadataXml: idp.metadata() });
    assert.equal(samlOnOidc.statusCode, 400);
    assert.equal((await api.ok('PATCH', `/tenants/${tenantId}/connections/${list[0].id}`, { name: 'Parent company', domains: ['Parent.Example'] })).domains[0], 'parent.example');
    assert.equal((await api.admin('DELETE', `/tenants/${tenantId}/connections/${list[0].id}`)).statusCode, 204);
    assert.equal((await api.admin('GET', `/tenants/${tenantId}/oidc`)).statusCode, 404, 'the OIDC configuration went with its connection');
    assert.deepEqual(await api.ok('GET', `/tenants/${tenantId}/connections`), []);
  });

  test('SAML connections: any number per tenant, metadata pasted or fetched by URL, bad input changes nothing', async () => {
    const { tenantId } = await t.newTenant('saml-conn');
    await api.ok('PUT', `/tenants/${tenantId}/oidc`, OIDC);
    const a = await api.ok('POST', `/tenants/${tenantId}/connections`, { type: 'saml', name: 'Subsidiary A', domains: ['a.example'], idpMetadataXml: idp.metadata() });
    assert.equal(a.saml.idpEntityId, idp.entityId);
    assert.equal(a.saml.idpSsoUrl, idp.ssoUrl);
    assert.equal(a.saml.idpCertificates, 1);
    assert.equal(a.saml.ready, true);
    assert.equal(a.saml.allowIdpInitiated, false, 'IdP-initiated sign-in is off by default');
    assert.match(a.saml.acsUrl, new RegExp(`/sso/saml/${tenantId}/${a.id}/acs$`));
    const b = await api.ok('POST', `/tenants/${tenantId}/connections`, { type: 'saml', name: 'Subsidiary B', idpMetadataUrl: metadataUrl });
    assert.equal(b.saml.idpEntityId, idp.entityId);
    assert.equal(b.saml.idpMetadataUrl, metadataUrl);
    const list = await api.ok('GET', `/tenants/${tenantId}/connections`);
    assert.deepEqual(list.map((c: { type: string; name: string }) => `${c.type}:${c.name}`), ['oidc:OIDC', 'saml:Subsidiary A', 'saml:Subsidiary B']);

    const bad = [
      { idpMetadataXml: '<not xml' },
      { idpMetadataXml: '<!DOCTYPE x [<!ENTITY e "x">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>' },
      { idpMetadataXml: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>' },
      { idpMetadataXml: idp.metadata(), idpMetadataUrl: metadataUrl },
      { idpMetadataUrl: metadataUrl.replace('/metadata', '/missing') },
      { idpMetadataUrl: 'not a url' },
      { domains: ['not a domain'] },
      { identityMapping: [{ from: 'nameID', to: 'displayName' }] },
      { clockSkewSeconds: 100000 },
    ];
    for (const body of bad) {
      const res = await api.admin('PATCH', `/tenants/${tenantId}/connections/${a.id}`, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 80)} → ${res.body}`);
    }
    assert.deepEqual(await api.ok('GET', `/tenants/${tenantId}/connections/${a.id}`), a, 'nothing changed');

    // another tenant sees none of it
    const other = await t.newTenant('other');
    assert.equal((await api.admin('GET', `/tenants/${other.tenantId}/connections/${a.id}`)).statusCode, 404);
    assert.equal((await api.admin('DELETE', `/tenants/${other.tenantId}/connections/${a.id}`)).statusCode, 404);
    assert.equal((await api.admin('GET', `/tenants/${randomUUID()}/connections`)).statusCode, 404);

    assert.equal((await api.admin('DELETE', `/tenants/${tenantId}/connections/${b.id}`)).statusCode, 204);
    assert.equal((await api.admin('GET', `/tenants/${tenantId}/connections/${b.id}`)).statusCode, 404);
    assert.equal((await api.admin('GET', `/tenants/${tenantId}/oidc`)).statusCode, 200, 'deleting a SAML connection leaves the OIDC one');
  });

  test('a metadata URL on a private address is refused by the outbound guard', async () => {
    const strict = await startTestApp(kind, { allowPrivateTargets: [] });
    try {
      const res = await strict.app.inject({
        method: 'POST', url: `/admin/v1/tenants/${strict.tenantId}/connections`, headers: { authorization: `Bearer ${strict.adminToken}` },
        payload: { type: 'saml', name: 'x', idpMetadataUrl: metadataUrl },
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'ERR_TARGET_NOT_ALLOWED');
      const list = await strict.app.inject({ url: `/admin/v1/tenants/${strict.tenantId}/connections`, headers: { authorization: `Bearer ${strict.adminToken}` } });
      assert.deepEqual(list.json(), []);
    } finally {
      await strict.close();
    }
  });
});
