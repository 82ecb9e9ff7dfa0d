// SAML 2.0 sign-in against a real SAML IdP (samlify in IdP mode, in this process) over HTTP:
// SP metadata, SP-initiated sign-in (Redirect-binding AuthnRequest, RelayState and request state in
// the database), IdP-initiated opt-in, identity resolution through the access decision, JIT
// provisioning. The refusals are in refusals.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { eachDatabase, type TestApp } from '../../helpers/app.js';
import type { apis, SeededTenant } from '../../idp-tokens/helpers/setup.js';
import { CookieJar } from '../helpers/flow.js';
import { TestSamlIdp } from './helpers/idp.js';
import { HOST_CB, OID_ATTR, SamlFixture, type SamlConnectionView } from './helpers/fixture.js';

eachDatabase((kind) => {
  const f = new SamlFixture(kind);
  const idp = f.idp;
  const { startSignIn, post, hostRedirect, signIn } = f;
  let t: TestApp;
  let api: ReturnType<typeof apis>;
  let base: string;
  let S: SeededTenant;
  let conn: SamlConnectionView;
  let spMetadata: string;

  before(async () => {
    await f.start();
    ({ t, api, base, S, conn, spMetadata } = f);
  });

  after(() => f.close());

  test('SP metadata at a stable URL: entity ID, ACS URL with the POST binding', async () => {
    assert.match(conn.saml.spEntityId, new RegExp(`/sso/saml/${t.tenantId}/${conn.id}$`));
    const res = await fetch(conn.saml.metadataUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /samlmetadata\+xml/);
    assert.ok(spMetadata.includes(`entityID="${conn.saml.spEntityId}"`));
    assert.ok(spMetadata.includes(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${conn.saml.acsUrl}"`));
    assert.ok(spMetadata.includes('WantAssertionsSigned="true"'));
    const none = await fetch(`${base}/sso/saml/${t.tenantId}/00000000-0000-4000-8000-000000000000/metadata`);
    assert.equal(none.status, 409);
  });

  test('SP-initiated sign-in: NameID → identity, same idpbridge token as OIDC sign-in', async () => {
    const jar = new CookieJar();
    const r = await startSignIn(jar);
    assert.equal(r.issuer, conn.saml.spEntityId, 'the AuthnRequest names the SP');
    assert.equal(r.acsUrl, conn.saml.acsUrl);
    const saml = await idp.response(r.metadata, { inResponseTo: r.id, nameId: 'alice@acme.example' });
    const q = hostRedirect(await post(jar, saml, r.relayState));
    assert.equal(q.get('error'), null, q.get('error_description') ?? '');
    assert.equal(q.get('state'), 'host-state-1');
    const { payload } = await jwtVerify(q.get('token')!, createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`)), {
      issuer: `${base}/sso/${t.tenantId}`, audience: HOST_CB,
    });
    assert.equal(payload.sub, S.users.alice);
    assert.deepEqual(payload.amr, ['idp']);
    assert.deepEqual(payload.idp, { iss: idp.entityId, sub: 'alice@acme.example' });
    assert.deepEqual((payload.datasets as unknown[]).length, 0);
  });

  test('Entra objectidentifier attribute → externalId; suspended and unknown identities refused by the access decision', async () => {
    const q = await signIn({ nameId: 'someone-else@acme.example', attributes: { [OID_ATTR]: 'oid-alice' } });
    assert.ok(q.get('token'), q.get('error_description') ?? '');
    const sam = await signIn({ nameId: 'sam@acme.example' });
    assert.equal(sam.get('error_code'), 'identity_suspended');
    assert.equal(sam.get('error'), 'access_denied');
    const nobody = await signIn({ nameId: 'nobody@acme.example' });
    assert.equal(nobody.get('error_code'), 'identity_not_found');
  });

  test('a large response (many attributes, beyond the 16 kB form limit of the other broker routes) is read whole at the ACS', async () => {
    const groups = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`http://schemas.example/claims/group-${i}`, `group-value-${i}-${'x'.repeat(40)}`]));
    const q = await signIn({ nameId: 'alice@acme.example', attributes: groups });
    assert.ok(q.get('token'), q.get('error_description') ?? '');
  });

  test('two IdP signing certificates at once (rotation): both verify', async () => {
    const rotating = new TestSamlIdp({ key: 'idp', extraCerts: ['idp-next'] });
    const res = await api.admin('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { idpMetadataXml: rotating.metadata() });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().saml.idpCertificates, 2);
    try {
      const next = new TestSamlIdp({ key: 'idp-next' });
      assert.ok((await signIn({ nameId: 'alice@acme.example' }, next)).get('token'), 'signed with the next key');
      assert.ok((await signIn({ nameId: 'alice@acme.example' })).get('token'), 'signed with the current key');
    } finally {
      await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { idpMetadataXml: idp.metadata() });
    }
    const only = await signIn({ nameId: 'alice@acme.example' }, new TestSamlIdp({ key: 'idp-next' }));
    assert.equal(only.get('error_code'), 'saml_invalid_signature', 'the next key is no longer trusted');
  });

  test('JIT provisioning (per connection, off by default): the first sign-in creates the identity, later ones update it', async () => {
    const off = await signIn({ nameId: 'newcomer@acme.example', attributes: { displayName: 'New Comer' } });
    assert.equal(off.get('error_code'), 'identity_not_found', 'off by default');
    await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { jitProvisioning: true });
    try {
      const first = await signIn({ nameId: 'newcomer@acme.example', attributes: { displayName: 'New Comer', [OID_ATTR]: 'oid-newcomer' } });
      assert.ok(first.get('token'), first.get('error_description') ?? '');
      const users = await api.ok('GET', `/tenants/${t.tenantId}/users?userName=${encodeURIComponent('newcomer@acme.example')}`);
      const list = users.users as { id: string; userName: string; displayName: string | null; externalId: string | null; source: string }[];
      const created = list.find((u) => u.userName === 'newcomer@acme.example');
      assert.ok(created, JSON.stringify(users).slice(0, 300));
      assert.equal(created.displayName, 'New Comer');
      assert.equal(created.externalId, 'oid-newcomer');
      assert.equal(created.source, 'manual');
      // a later sign-in (found by objectidentifier → externalId) updates the display name
      const again = await signIn({ nameId: 'newcomer@acme.example', attributes: { displayName: 'New Name', [OID_ATTR]: 'oid-newcomer' } });
      assert.ok(again.get('token'));
      const detail = await api.ok('GET', `/tenants/${t.tenantId}/users/${created.id}`);
      assert.equal(detail.displayName, 'New Name');
      // SCIM-provisioned identities are never changed by an assertion
      assert.ok((await signIn({ nameId: 'alice@acme.example', attributes: { displayName: 'Mallory' } })).get('token'));
      assert.notEqual((await api.ok('GET', `/tenants/${t.tenantId}/users/${S.users.alice}`)).displayName, 'Mallory');
    } finally {
      await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { jitProvisioning: false });
    }
  });

  describe('IdP-initiated sign-in', () => {
    test('refused while the connection does not allow it (the default)', async () => {
      const saml = await idp.response(spMetadata, { nameId: 'alice@acme.example' });
      const res = await post(new CookieJar(), saml, HOST_CB);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /invalid_state/);
      const bare = await post(new CookieJar(), saml, undefined);
      assert.equal(bare.status, 400);
      assert.match(await bare.text(), /saml_unsolicited/);
    });

    test('opt-in: accepted with a registered RelayState, and a replayed assertion is refused', async () => {
      await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { allowIdpInitiated: true });
      try {
        const saml = await idp.response(spMetadata, { nameId: 'alice@acme.example' });
        const q = hostRedirect(await post(new CookieJar(), saml, HOST_CB));
        assert.ok(q.get('token'), q.get('error_description') ?? '');
        const replay = hostRedirect(await post(new CookieJar(), saml, HOST_CB));
        assert.equal(replay.get('error_code'), 'saml_replayed');
        const unregistered = await post(new CookieJar(), await idp.response(spMetadata, { nameId: 'alice@acme.example' }), 'https://evil.example/cb');
        assert.equal(unregistered.status, 400);
        // an unsolicited response must not carry an InResponseTo
        const stray = await idp.response(spMetadata, { nameId: 'alice@acme.example', inResponseTo: '_someone-elses-request' });
        assert.equal(hostRedirect(await post(new CookieJar(), stray, HOST_CB)).get('error_code'), 'saml_unsolicited');
      } finally {
        await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { allowIdpInitiated: false });
      }
    });
  });
});
