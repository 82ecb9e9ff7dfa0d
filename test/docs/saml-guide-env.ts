/**
 * What the SAML guides (docs/guides/entra-id-saml.md, okta-saml.md) need around their requests: a
 * tenant with a provisioned user and the product's registered callback, and a real SAML IdP (samlify,
 * test keys) shaped like Entra ID or Okta whose metadata is served on 127.0.0.1 at the URL the guide
 * pastes. After the guide has run, `checkSignIn` signs in through the connection the guide created,
 * with the claims the guide tells the admin to configure, and expects the product to get a token.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_TOKEN } from '../helpers/app.js';
import { TestSamlIdp } from '../sso/saml/helpers/idp.js';
import type { Vars } from './doc-runner.js';

const ENTRA_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OKTA_APP = 'exk1acmeproduct0001';
const OID = '3f2b1c7e-5a4d-4e8b-9c6f-0a1b2c3d4e5f';

export interface SamlGuideEnv {
  checkSignIn(vars: Vars): Promise<void>;
  close(): Promise<void>;
}

export async function samlGuideEnv(base: string, idpKind: 'entra' | 'okta', vars: Vars): Promise<SamlGuideEnv> {
  const admin = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN, type = 'application/json') => {
    const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${await r.clone().text()}`);
    return r.json() as Promise<Record<string, string>>;
  };
  const tenant = await admin('POST', '/admin/v1/tenants', { name: idpKind === 'entra' ? 'Contoso SAML' : 'Acme SAML' });
  const scim = await admin('POST', `/admin/v1/tenants/${tenant.id}/scim-tokens`, { name: 'provisioning' });
  const userName = idpKind === 'entra' ? 'adele.vance@contoso.com' : 'lena.fischer@acme.example';
  // As the IdP's provisioning created them: Entra sends the object ID as externalId, Okta its user id.
  await admin('POST', `/scim/v2/${tenant.id}/Users`, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, externalId: idpKind === 'entra' ? OID : '00u1lenafischer0001', active: true,
  }, scim.token, 'application/scim+json');
  const callback = idpKind === 'entra' ? 'https://app.contoso-product.example/auth/callback' : 'https://app.acme-product.example/auth/callback';
  await admin('POST', `/admin/v1/tenants/${tenant.id}/sso/redirect-uris`, { uri: callback });

  const idp = idpKind === 'entra'
    ? new TestSamlIdp({ entityId: `https://sts.windows.net/${ENTRA_TENANT}/`, ssoUrl: `https://login.microsoftonline.com/${ENTRA_TENANT}/saml2` })
    : new TestSamlIdp({ entityId: `http://www.okta.com/${OKTA_APP}`, ssoUrl: `https://acme.okta.com/app/acme_product_1/${OKTA_APP}/sso/saml` });
  const metadataServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idp.metadata()));
  await new Promise<void>((r) => metadataServer.listen(0, '127.0.0.1', r));
  const port = (metadataServer.address() as AddressInfo).port;

  for (const [k, v] of Object.entries({ IDPBRIDGE: base, ADMIN_TOKEN, TENANT_ID: tenant.id!, APP_CALLBACK: callback })) vars.set(k, v);
  if (idpKind === 'entra') {
    vars.set('ENTRA_TENANT_ID', ENTRA_TENANT);
    vars.set('APP_FEDERATION_METADATA_URL', `http://127.0.0.1:${port}/${ENTRA_TENANT}/federationmetadata/2007-06/federationmetadata.xml?appid=guide`);
  } else {
    vars.set('OKTA_APP_ID', OKTA_APP);
    vars.set('OKTA_METADATA_URL', `http://127.0.0.1:${port}/app/${OKTA_APP}/sso/saml/metadata`);
  }

  /** The IdP's response posted to the ACS URL; answers the product's landing URL. */
  const post = async (acsUrl: string, saml: string, relayState: string, cookie?: string) => {
    const r = await fetch(acsUrl, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams({ SAMLResponse: saml, RelayState: relayState }).toString(),
    });
    assert.equal(r.status, 303, await r.text());
    return new URL(r.headers.get('location')!);
  };

  return {
    async checkSignIn(v: Vars) {
      const spMetadata = await (await fetch(v.get('SP_METADATA_URL') ?? `${v.get('ENTITY_ID')}/metadata`)).text();
      let landed: URL;
      if (idpKind === 'entra') {
        // IdP-initiated (the guide turned it on), from the My Apps tile: Relay State = the product's callback.
        // The Name ID is not the SCIM userName: the objectidentifier claim alone finds Adele (guide step 4).
        const saml = await idp.response(spMetadata, {
          nameId: 'adele.vance@contoso.onmicrosoft.com',
          attributes: { 'http://schemas.microsoft.com/identity/claims/objectidentifier': OID, 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': userName },
        });
        landed = await post(v.get('ACS_URL')!, saml, callback);
      } else {
        // SP-initiated, as the product starts it: Name ID = the e-mail (Okta's EmailAddress format).
        const start = await fetch(`${v.get('LOGIN_URL')}?redirect_uri=${encodeURIComponent(callback)}&state=okta-1`, { redirect: 'manual' });
        assert.equal(start.status, 302);
        const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
        const request = await idp.parseRequest(spMetadata, start.headers.get('location')!);
        assert.equal(request.acsUrl, v.get('ACS_URL'));
        const saml = await idp.response(spMetadata, { inResponseTo: request.id, nameId: userName, attributes: { email: userName, displayName: 'Lena Fischer' } });
        landed = await post(v.get('ACS_URL')!, saml, request.relayState, cookie);
        assert.equal(landed.searchParams.get('state'), 'okta-1');
      }
      assert.equal(`${landed.origin}${landed.pathname}`, callback);
      const token = landed.searchParams.get('token');
      assert.ok(token, `no token: ${landed.search}`);
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { identity: { userName: string } };
      assert.equal(claims.identity.userName, userName);
    },
    close: () => new Promise<void>((r) => { metadataServer.closeAllConnections(); metadataServer.close(() => r()); }),
  };
}
