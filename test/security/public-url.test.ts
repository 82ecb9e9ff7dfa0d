/**
 * Issue 17 item 17: with IDPBRIDGE_PUBLIC_URL configured, nothing idpbridge answers follows the
 * request's Host (or X-Forwarded-Host behind a trusted proxy): SCIM `meta.location` and `Location`
 * headers, discovery locations, the admin API's URLs and the sign-in token's issuer all use the
 * configured URL. Without it, the sign-in broker serves loopback hosts only (development) and
 * refuses any other Host, so a forged Host cannot become a token issuer or callback URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { eachDatabase, startTestApp, ADMIN_TOKEN, type TestApp } from '../helpers/app.js';
import { TestSamlIdp } from '../sso/saml/helpers/idp.js';

const PUBLIC = 'https://idp.example.com';
const FORGED = { host: 'evil.example', 'x-forwarded-host': 'evil-proxy.example', 'x-forwarded-proto': 'http' };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const HOST_CB = 'http://127.0.0.1:9/auth/callback';

/** A guest with a built-in password and a registered redirect URI, for the password sign-in. */
async function passwordGuest(t: TestApp): Promise<void> {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const user = (await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: admin, payload: { userName: 'guest@partner.example' } })).json();
  const lm = await t.app.inject({ method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/users/${user.id}/login-method`, headers: admin, payload: { method: 'password', password: 'correct horse battery staple' } });
  assert.equal(lm.statusCode, 200, lm.body);
  assert.equal((await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/sso/redirect-uris`, headers: admin, payload: { uri: HOST_CB } })).statusCode, 201);
}

/** A SAML connection to the samlify test IdP; its id. */
async function samlConnection(t: TestApp): Promise<string> {
  const r = await t.app.inject({
    method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/connections`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { type: 'saml', name: 'Acme SAML', idpMetadataXml: new TestSamlIdp().metadata() },
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json().id as string;
}

const passwordLogin = (t: TestApp, headers: Record<string, string>) => t.app.inject({
  method: 'POST', url: `/sso/${t.tenantId}/password-login`, headers,
  payload: { userName: 'guest@partner.example', password: 'correct horse battery staple', redirect_uri: HOST_CB },
});

eachDatabase((kind) => {
  test('with IDPBRIDGE_PUBLIC_URL, a forged Host or X-Forwarded-Host appears in no URL idpbridge answers', async () => {
    const t = await startTestApp(kind, { publicUrl: PUBLIC, trustProxy: true });
    try {
      const scim = { ...FORGED, authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      const base = `${PUBLIC}/scim/v2/${t.tenantId}`;
      const seen: string[] = [];
      const call = async (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = scim) => {
        const r = await t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
        seen.push(`${JSON.stringify(r.headers)}\n${r.body}`);
        return r;
      };
      const created = await call('POST', `${t.scimBase}/Users`, { schemas: [USER], userName: 'host@example.com' });
      const id = created.json().id as string;
      assert.equal(created.headers.location, `${base}/Users/${id}`);
      assert.equal(created.json().meta.location, `${base}/Users/${id}`);
      const group = await call('POST', `${t.scimBase}/Groups`, { schemas: [GROUP], displayName: 'Hosts', members: [{ value: id }] });
      assert.equal(group.headers.location, `${base}/Groups/${group.json().id}`);
      assert.equal((await call('GET', `${t.scimBase}/Users?filter=${encodeURIComponent('userName eq "host@example.com"')}`)).json().Resources[0].meta.location, `${base}/Users/${id}`);
      assert.equal((await call('GET', `${t.scimBase}/Groups/${group.json().id}`)).json().members[0].$ref, `${base}/Users/${id}`);
      assert.equal((await call('GET', `${t.scimBase}/ServiceProviderConfig`)).json().meta.location, `${base}/ServiceProviderConfig`);
      await call('GET', `${t.scimBase}/Schemas`);
      await call('GET', `${t.scimBase}/ResourceTypes`);

      const admin = { ...FORGED, authorization: `Bearer ${ADMIN_TOKEN}` };
      assert.equal((await call('GET', `/admin/v1/tenants/${t.tenantId}`, undefined, admin)).json().scimBaseUrl, base);
      const sso = (await call('GET', `/admin/v1/tenants/${t.tenantId}/sso`, undefined, admin)).json();
      assert.equal(sso.issuer, `${PUBLIC}/sso/${t.tenantId}`);

      await passwordGuest(t);
      const signedIn = await passwordLogin(t, FORGED);
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      assert.equal(decodeJwt(signedIn.json().token).iss, `${PUBLIC}/sso/${t.tenantId}`);
      seen.push(signedIn.body);

      // SAML: the SP entity ID and ACS URL (signed into every message) use the public URL too.
      const conn = await samlConnection(t);
      const view = (await call('GET', `/admin/v1/tenants/${t.tenantId}/connections/${conn}`, undefined, admin)).json();
      assert.ok(view.saml.acsUrl.startsWith(`${PUBLIC}/sso/saml/${t.tenantId}/${conn}`), view.saml.acsUrl);
      const md = await call('GET', `/sso/saml/${t.tenantId}/${conn}/metadata`, undefined, FORGED);
      assert.match(md.body, new RegExp(`Location="${PUBLIC}/sso/saml/${t.tenantId}/${conn}/acs"`));

      for (const s of seen) assert.ok(!/evil/.test(s), `a forged host leaked: ${s.slice(0, 400)}`);
    } finally {
      await t.close();
    }
  });

  test('without IDPBRIDGE_PUBLIC_URL, sign-in answers on loopback hosts only; SCIM follows the loopback host (development)', async () => {
    const t = await startTestApp(kind, { publicUrl: undefined });
    try {
      await passwordGuest(t);
      const forged = await passwordLogin(t, { host: 'evil.example' });
      assert.equal(forged.statusCode, 409, forged.body);
      assert.equal(forged.json().code, 'ERR_SSO_NOT_CONFIGURED');
      assert.ok(!forged.body.includes('evil'));
      const conn = await samlConnection(t);
      const forgedMd = await t.app.inject({ url: `/sso/saml/${t.tenantId}/${conn}/metadata`, headers: { host: 'evil.example' } });
      assert.equal(forgedMd.statusCode, 409, forgedMd.body);
      assert.ok(!forgedMd.body.includes('evil.example'));
      const localMd = await t.app.inject({ url: `/sso/saml/${t.tenantId}/${conn}/metadata`, headers: { host: '127.0.0.1:8080' } });
      assert.equal(localMd.statusCode, 200, localMd.body);
      assert.match(localMd.body, /Location="http:\/\/127\.0\.0\.1:8080\/sso\/saml\//);
      const local = await passwordLogin(t, { host: '127.0.0.1:8080' });
      assert.equal(local.statusCode, 200, local.body);
      assert.equal(decodeJwt(local.json().token).iss, `http://127.0.0.1:8080/sso/${t.tenantId}`);
      const created = await t.app.inject({
        method: 'POST', url: `${t.scimBase}/Users`, headers: { host: 'localhost:8080', authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' },
        payload: { schemas: [USER], userName: 'dev@example.com' },
      });
      assert.equal(created.statusCode, 201);
      assert.equal(created.headers.location, `http://localhost:8080/scim/v2/${t.tenantId}/Users/${created.json().id}`);
    } finally {
      await t.close();
    }
  });
});
