// PUT semantics of the per-tenant configuration (docs/idp-tokens.md, "PUT semantics"): PUT …/oidc
// replaces the verification fields but keeps the sign-in client (client id + write-only secret) when
// left out, and only an explicit null removes it; PUT …/settings changes only the fields given.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';

eachDatabase((kind) => {
  describe(`PUT semantics for …/oidc and …/settings (${kind})`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(kind); });
    after(async () => { await t?.close(); });
    const admin = (method: string, url: string, payload?: unknown) =>
      t.app.inject({ method: method as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: payload as object });

    test('PUT …/oidc without client fields keeps the sign-in client; the verification fields are replaced', async () => {
      const { tenantId } = await t.newTenant('Put semantics');
      const url = `/tenants/${tenantId}/oidc`;
      const first = await admin('PUT', url, {
        provider: 'okta', issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://default', groupsClaim: 'roles',
        clientId: '0oa-client', clientSecret: 'okta-secret',
      });
      assert.equal(first.statusCode, 200, first.body);
      assert.equal((await admin('POST', `/tenants/${tenantId}/sso/redirect-uris`, { uri: 'https://app.example/cb' })).statusCode, 201);
      assert.equal((await admin('GET', `/tenants/${tenantId}/sso`)).json().ready, true);

      const second = await admin('PUT', url, { provider: 'okta', issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://other' });
      assert.equal(second.statusCode, 200, second.body);
      assert.equal(second.json().clientId, '0oa-client');
      assert.equal(second.json().clientSecretSet, true);
      assert.equal(second.json().groupsClaim, 'groups', 'a left-out verification field takes its default again');
      assert.deepEqual(second.json().audiences, ['api://other']);
      assert.equal((await admin('GET', `/tenants/${tenantId}/sso`)).json().ready, true);

      // A new client id without a secret keeps the stored secret (write-only); null removes the client.
      const third = await admin('PUT', url, { issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://other', clientId: '0oa-next' });
      assert.equal(third.json().clientId, '0oa-next');
      assert.equal(third.json().clientSecretSet, true);
      const cleared = await admin('PUT', url, { issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://other', clientId: null });
      assert.equal(cleared.statusCode, 200, cleared.body);
      assert.equal(cleared.json().clientId, null);
      assert.equal(cleared.json().clientSecretSet, false);
      assert.equal((await admin('GET', `/tenants/${tenantId}/sso`)).json().ready, false);

      // Bad input changes nothing.
      const bad = await admin('PUT', url, { issuer: 'not a url', audience: 'x' });
      assert.equal(bad.statusCode, 400);
      assert.equal((await admin('GET', url)).json().version, cleared.json().version);
    });

    test('PUT …/settings changes only the fields given', async () => {
      const { tenantId } = await t.newTenant('Settings merge');
      const url = `/tenants/${tenantId}/settings`;
      assert.equal((await admin('PUT', url, { newUserStatus: 'staged', logRetentionDays: 12 })).statusCode, 200);
      const r = await admin('PUT', url, { nestedGroupsGrant: true });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json().newUserStatus, 'staged');
      assert.equal(r.json().logRetentionDays, 12);
      assert.equal(r.json().nestedGroupsGrant, true);
    });
  });
});
