/**
 * The shared set-up of the SAML sign-in tests: idpbridge on a real socket, a tenant with three
 * identities (alice, sam suspended, pat), a registered host redirect URI and a SAML connection to
 * the samlify test IdP; helpers to start a sign-in, POST to the ACS and read the host redirect.
 */
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestDatabaseKind } from '../../../helpers/app.js';
import { apis, seedTenant, type SeededTenant } from '../../../idp-tokens/helpers/setup.js';
import { CookieJar, request } from '../../helpers/flow.js';
import { TestSamlIdp, tamper, type ResponseSpec } from './idp.js';

export const HOST_CB = 'http://127.0.0.1:9/auth/callback';
export const OID_ATTR = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export interface SamlConnectionView { id: string; saml: { acsUrl: string; metadataUrl: string; loginUrl: string; spEntityId: string } }

export class SamlFixture {
  t!: TestApp;
  api!: ReturnType<typeof apis>;
  base = '';
  S!: SeededTenant;
  readonly idp = new TestSamlIdp();
  conn!: SamlConnectionView;
  spMetadata = '';

  constructor(private readonly kind: TestDatabaseKind) {}

  async start(): Promise<void> {
    const t = (this.t = await startTestApp(this.kind, { accessCacheTtlMs: 0 }));
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    this.base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    this.api = apis(t);
    this.S = await seedTenant(this.api, t.tenantId, t.scimToken, {
      users: {
        alice: { userName: 'alice@acme.example', externalId: 'oid-alice' },
        sam: { userName: 'sam@acme.example', externalId: 'oid-sam', active: false },
        pat: { userName: 'pat@acme.example' },
      },
      datasets: { repo: 'ds-repo' },
      accessGroups: {},
    });
    await this.api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: HOST_CB });
    const created = await this.api.ok('POST', `/tenants/${t.tenantId}/connections`, { type: 'saml', name: 'Acme SAML', domains: ['acme.example'], idpMetadataXml: this.idp.metadata() });
    // Over HTTP, so the SP URLs carry this server's address (the public URL when one is configured).
    this.conn = await (await fetch(`${this.base}/admin/v1/tenants/${t.tenantId}/connections/${created.id}`, { headers: { authorization: `Bearer ${t.adminToken}` } })).json() as SamlConnectionView;
    this.spMetadata = await (await fetch(this.conn.saml.metadataUrl)).text();
  }

  async close(): Promise<void> {
    await this.t?.close();
  }

  /** GET …/login → the AuthnRequest the IdP receives (parsed by samlify), with the browser's cookies in the jar. */
  startSignIn = async (jar: CookieJar, connection: SamlConnectionView = this.conn, state = 'host-state-1') => {
    const res = await request(jar, `${connection.saml.loginUrl}?redirect_uri=${encodeURIComponent(HOST_CB)}&state=${state}`);
    assert.equal(res.status, 302, await res.text());
    const authorizeUrl = res.headers.get('location')!;
    assert.ok(authorizeUrl.startsWith(this.idp.ssoUrl), authorizeUrl);
    const md = await (await fetch(connection.saml.metadataUrl)).text();
    return { ...(await this.idp.parseRequest(md, authorizeUrl)), authorizeUrl, metadata: md };
  };

  post = async (jar: CookieJar, samlResponse: string, relayState: string | undefined, acsUrl = this.conn.saml.acsUrl) => {
    const form: Record<string, string> = { SAMLResponse: samlResponse };
    if (relayState !== undefined) form.RelayState = relayState;
    return request(jar, acsUrl, { method: 'POST', form });
  };

  /** The host product's redirect (303) and its query. */
  hostRedirect = (res: Response) => {
    assert.equal(res.status, 303, `expected a redirect to the host product, got ${res.status}`);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(`${loc.origin}${loc.pathname}`, HOST_CB);
    return loc.searchParams;
  };

  /** A fresh SP-initiated sign-in answered with this response spec (by `using`, then `edit`ed); the host redirect's query. */
  signIn = async (spec: Omit<ResponseSpec, 'inResponseTo'> & { inResponseTo?: string }, using: TestSamlIdp = this.idp, edit?: (xml: string) => string) => {
    const jar = new CookieJar();
    const r = await this.startSignIn(jar);
    let saml = await using.response(r.metadata, { inResponseTo: r.id, ...spec });
    if (edit) saml = tamper(saml, edit);
    return this.hostRedirect(await this.post(jar, saml, r.relayState));
  };
}
