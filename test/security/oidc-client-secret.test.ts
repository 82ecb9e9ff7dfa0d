/**
 * Issue 17 items 7 and 16 for the OIDC client secret: it is stored encrypted, and a change of the
 * issuer or of the discovery URL (which names the token endpoint the secret is sent to) forgets it
 * unless the same PUT brings a new one — a tenant admin cannot redirect the stored secret to a
 * token endpoint of their choosing.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, ADMIN_TOKEN } from '../helpers/app.js';
import { clientSecretForTokenEndpoint, getOidcClientSecret, keepsClientSecret } from '../../src/idp-tokens/oidc-config.js';

eachDatabase((kind) => {
  it('the OIDC client secret is encrypted at rest and forgotten when the issuer or discovery URL changes', async () => {
    const t = await startTestApp(kind);
    const url = `/admin/v1/tenants/${t.tenantId}/oidc`;
    const put = async (body: Record<string, unknown>) => {
      const r = await t.app.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body });
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as { clientSecretSet: boolean };
    };
    const a = {
      provider: 'okta', issuer: 'https://acme.okta.example/oauth2/default', audience: 'api://default', clientId: 'client-1',
      discoveryUrl: 'https://acme.okta.example/oauth2/default/.well-known/openid-configuration',
    };
    const secret = () => getOidcClientSecret(t.db, t.tenantId, t.deps.secrets);
    try {
      assert.equal((await put({ ...a, clientSecret: 'the-client-secret-123' })).clientSecretSet, true);
      const { rows } = await t.db.query<{ client_secret: string }>('SELECT client_secret FROM idp_oidc_configs WHERE tenant_id = $1', [t.tenantId]);
      assert.match(rows[0]!.client_secret, /^enc:v1:/);
      assert.ok(!rows[0]!.client_secret.includes('the-client-secret'));
      assert.equal(await secret(), 'the-client-secret-123');

      // Unrelated changes keep it (write-only: the console cannot resend it).
      assert.equal((await put({ ...a, audience: 'api://other', clockToleranceSeconds: 30 })).clientSecretSet, true);
      // Another discovery URL (another token endpoint): forgotten.
      assert.equal((await put({ ...a, discoveryUrl: 'https://attacker.example/.well-known/openid-configuration' })).clientSecretSet, false);
      assert.equal(await secret(), null);
      assert.equal((await put({ ...a, clientSecret: 'the-client-secret-123' })).clientSecretSet, true);
      // Another issuer: forgotten.
      assert.equal((await put({ ...a, issuer: 'https://attacker.example', discoveryUrl: null })).clientSecretSet, false);
      // A change that brings its own secret keeps the new one.
      assert.equal((await put({ ...a, issuer: 'https://other.okta.example', discoveryUrl: null, clientSecret: 'new-secret-456' })).clientSecretSet, true);
      assert.equal(await secret(), 'new-secret-456');
    } finally {
      await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${t.tenantId}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      await t.close();
    }
  });

  it('the OIDC client secret is bound to the token endpoint origin it was first sent to: another origin alone forgets it', async () => {
    const t = await startTestApp(kind);
    const url = `/admin/v1/tenants/${t.tenantId}/oidc`;
    const put = async (body: Record<string, unknown>) => {
      const r = await t.app.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body });
      assert.equal(r.statusCode, 200, r.body);
      return r.json() as { clientSecretSet: boolean };
    };
    const a = {
      provider: 'okta', issuer: 'https://acme.okta.example/oauth2/default', audience: 'api://default', clientId: 'client-1',
      discoveryUrl: 'https://acme.okta.example/oauth2/default/.well-known/openid-configuration',
    };
    const forEndpoint = (tokenEndpoint: string) => clientSecretForTokenEndpoint(t.db, t.tenantId, tokenEndpoint, t.deps.secrets);
    const origin = async () => (await t.db.query<{ o: string | null }>('SELECT client_secret_token_origin AS o FROM idp_oidc_configs WHERE tenant_id = $1', [t.tenantId])).rows[0]!.o;
    try {
      await put({ ...a, clientSecret: 'the-client-secret-123' });
      assert.equal(await origin(), null, 'not used yet');
      // First use pins the origin; another path on the same origin is the same endpoint owner.
      assert.equal(await forEndpoint('https://acme.okta.example/oauth2/default/v1/token'), 'the-client-secret-123');
      assert.equal(await origin(), 'https://acme.okta.example');
      assert.equal(await forEndpoint('https://acme.okta.example/oauth2/v2/token'), 'the-client-secret-123');
      // An unrelated PUT keeps the secret and its pinned origin.
      assert.equal((await put({ ...a, audience: 'api://other' })).clientSecretSet, true);
      assert.equal(await origin(), 'https://acme.okta.example');
      // Same issuer, same discovery URL, but the discovery document now names a token endpoint
      // elsewhere (another host, scheme or port): the secret is not handed out, and is forgotten.
      assert.equal(await forEndpoint('https://acme.okta.example:8443/oauth2/default/v1/token'), null);
      assert.equal(await getOidcClientSecret(t.db, t.tenantId, t.deps.secrets), null);
      const view = await t.app.inject({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(view.json().clientSecretSet, false);
      assert.equal(await forEndpoint('https://acme.okta.example/oauth2/default/v1/token'), null, 'forgotten, not only refused once');
      // The admin enters it again: a new secret is bound afresh at its first use.
      await put({ ...a, clientSecret: 'new-secret-456' });
      assert.equal(await origin(), null);
      assert.equal(await forEndpoint('https://login.acme.example/token'), 'new-secret-456');
      assert.equal(await forEndpoint('http://login.acme.example/token'), null, 'the scheme is part of the origin');
    } finally {
      await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${t.tenantId}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      await t.close();
    }
  });
});

it('keepsClientSecret: issuer, discovery URL and token endpoint origin each decide', () => {
  const b = { issuer: 'https://i.example', discoveryUrl: 'https://i.example/.well-known/openid-configuration', tokenEndpointOrigin: 'https://i.example' };
  assert.equal(keepsClientSecret(b, { ...b }), true);
  assert.equal(keepsClientSecret(b, { ...b, tokenEndpointOrigin: null }), true, 'not known on one side: no change');
  assert.equal(keepsClientSecret({ ...b, tokenEndpointOrigin: null }, b), true);
  assert.equal(keepsClientSecret(b, { ...b, issuer: 'https://j.example' }), false);
  assert.equal(keepsClientSecret(b, { ...b, discoveryUrl: null }), false);
  assert.equal(keepsClientSecret(b, { ...b, tokenEndpointOrigin: 'https://evil.example' }), false);
});
