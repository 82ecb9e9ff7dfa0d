// Sign-in routed by e-mail domain: a tenant proves a domain with a DNS TXT record (a dns2 server on
// 127.0.0.1, never the internet), GET /sso/login?email=… then picks the tenant and the connection,
// and no two tenants can hold the same verified domain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dns2 from 'dns2';
import { eachDatabase, startTestApp, type TestApp } from '../../helpers/app.js';
import { apis } from '../../idp-tokens/helpers/setup.js';
import { loadConfig } from '../../../src/config.js';
import { TestSamlIdp } from './helpers/idp.js';

const HOST_CB = 'http://127.0.0.1:9/auth/callback';
// Domains are unique across the database (which PostgreSQL runs keep): each run uses its own.
const run = randomBytes(4).toString('hex');
const ACME = `acme-${run}.example`;
const PARENT = `parent-${run}.example`;
const CONTESTED = `contested-${run}.example`;
const SUBSIDIARY = `subsidiary-${run}.example`;

eachDatabase((kind) => {
  let t: TestApp;
  let api: ReturnType<typeof apis>;
  let dns: ReturnType<typeof dns2.createServer>;
  /** TXT records the test DNS server answers with: name → values. */
  const txt = new Map<string, string[]>();
  const idp = new TestSamlIdp();

  before(async () => {
    dns = dns2.createServer({
      udp: true,
      handle: (request, send) => {
        const response = dns2.Packet.createResponseFromRequest(request);
        const q = request.questions[0];
        if (q && q.type === dns2.Packet.TYPE.TXT) {
          for (const value of txt.get(q.name.toLowerCase()) ?? []) {
            response.answers.push({ name: q.name, type: dns2.Packet.TYPE.TXT, class: dns2.Packet.CLASS.IN, ttl: 1, data: value } as never);
          }
        }
        send(response);
      },
    });
    await dns.listen({ udp: { port: 0, address: '127.0.0.1' } } as never);
    const port = (dns.addresses() as unknown as { udp: { port: number } }).udp.port;
    t = await startTestApp(kind, { sso: { ...loadConfig({}).sso, dnsResolvers: [`127.0.0.1:${port}`] } });
    api = apis(t);
  });

  after(async () => {
    await t?.close();
    await dns?.close();
  });

  const login = (query: string) => t.app.inject({ url: `/sso/login?${query}` });

  test('a domain is verified by its TXT record; then /sso/login?email= routes to the connection serving it', async () => {
    const A = t.tenantId;
    await api.ok('POST', `/tenants/${A}/sso/redirect-uris`, { uri: HOST_CB });
    await api.ok('PUT', `/tenants/${A}/oidc`, { provider: 'okta', issuer: 'https://a.okta.example', jwksUri: 'https://a.okta.example/keys', audience: 'api://a' });
    const saml = await api.ok('POST', `/tenants/${A}/connections`, { type: 'saml', name: 'Subsidiary', domains: [ACME], idpMetadataXml: idp.metadata() });
    const oidc = (await api.ok('GET', `/tenants/${A}/connections`)).find((c: { type: string }) => c.type === 'oidc');
    await api.ok('PATCH', `/tenants/${A}/connections/${oidc.id}`, { domains: [PARENT] });

    const claimed = await api.admin('POST', `/tenants/${A}/domains`, { domain: ACME.replace('acme', 'Acme') });
    assert.equal(claimed.statusCode, 201, claimed.body);
    const d = claimed.json();
    assert.equal(d.domain, ACME);
    assert.equal(d.verified, false);
    assert.equal(d.txtRecordName, `_idpbridge-challenge.${ACME}`);
    assert.match(d.txtRecordValue, /^idpbridge-domain-verification=[\w-]{20,}$/);
    assert.equal((await api.admin('POST', `/tenants/${A}/domains`, { domain: ACME })).json().txtRecordValue, d.txtRecordValue, 'claiming again is idempotent');

    // Not routed while unverified
    const early = await login(`email=alice@${ACME}&redirect_uri=${encodeURIComponent(HOST_CB)}`);
    assert.equal(early.statusCode, 409);
    assert.match(early.body, /sso_not_configured/);

    // No record, a wrong record: refused
    assert.equal((await api.admin('POST', `/tenants/${A}/domains/${ACME}/verify`)).statusCode, 400);
    txt.set(d.txtRecordName, ['idpbridge-domain-verification=someone-elses-token']);
    assert.equal((await api.admin('POST', `/tenants/${A}/domains/${ACME}/verify`)).statusCode, 400);
    txt.set(d.txtRecordName, ['v=spf1 -all', d.txtRecordValue]);
    const verified = await api.admin('POST', `/tenants/${A}/domains/${ACME}/verify`);
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal(verified.json().verified, true);

    const res = await login(`email=Alice@${ACME.toUpperCase()}&redirect_uri=${encodeURIComponent(HOST_CB)}&state=s1`);
    assert.equal(res.statusCode, 302, res.body);
    const to = new URL(res.headers.location as string, 'http://x');
    assert.equal(to.pathname, `/sso/saml/${A}/${saml.id}/login`);
    assert.equal(to.searchParams.get('redirect_uri'), HOST_CB);
    assert.equal(to.searchParams.get('state'), 's1');
    const byDomain = await login(`domain=${ACME}&redirect_uri=${encodeURIComponent(HOST_CB)}`);
    assert.equal(new URL(byDomain.headers.location as string, 'http://x').pathname, `/sso/saml/${A}/${saml.id}/login`);

    // The OIDC connection serves the parent domain (once verified), with the address as login_hint
    const parent = (await api.ok('POST', `/tenants/${A}/domains`, { domain: PARENT }));
    txt.set(parent.txtRecordName, [parent.txtRecordValue]);
    await api.ok('POST', `/tenants/${A}/domains/${PARENT}/verify`);
    const viaOidc = await login(`email=bob@${PARENT}&redirect_uri=${encodeURIComponent(HOST_CB)}`);
    assert.equal(viaOidc.statusCode, 302);
    const o = new URL(viaOidc.headers.location as string, 'http://x');
    assert.equal(o.pathname, `/sso/${A}/login`);
    assert.equal(o.searchParams.get('login_hint'), `bob@${PARENT}`);

    // A second OIDC connection (its own client) serving another domain is named in the redirect
    const second = await api.ok('POST', `/tenants/${A}/connections`, {
      type: 'oidc', name: 'Subsidiary OIDC', domains: [SUBSIDIARY], oidc: { issuer: 'https://sub.okta.example', clientId: 'sub-client', clientSecret: 'sub-secret' },
    });
    const sub = (await api.ok('POST', `/tenants/${A}/domains`, { domain: SUBSIDIARY }));
    txt.set(sub.txtRecordName, [sub.txtRecordValue]);
    await api.ok('POST', `/tenants/${A}/domains/${SUBSIDIARY}/verify`);
    const viaSecond = new URL((await login(`email=sue@${SUBSIDIARY}&redirect_uri=${encodeURIComponent(HOST_CB)}`)).headers.location as string, 'http://x');
    assert.equal(viaSecond.pathname, `/sso/${A}/login`);
    assert.equal(viaSecond.searchParams.get('connection'), second.id);
    assert.equal(o.searchParams.get('connection'), null, 'the configuration\'s connection is the default');

    // Bad requests: no address, not an address, an unregistered redirect URI
    assert.equal((await login(`redirect_uri=${encodeURIComponent(HOST_CB)}`)).statusCode, 400);
    assert.equal((await login(`email=nobody&redirect_uri=${encodeURIComponent(HOST_CB)}`)).statusCode, 400);
    const unregistered = await login(`email=alice@${ACME}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`);
    assert.equal(unregistered.statusCode, 400);
    assert.match(unregistered.body, /unregistered_redirect_uri/);
  });

  test('no two tenants hold the same verified domain', async () => {
    const B = await t.newTenant('B');
    const C = await t.newTenant('C');
    const domain = CONTESTED;
    const b = (await api.admin('POST', `/tenants/${B.tenantId}/domains`, { domain })).json();
    const c = (await api.admin('POST', `/tenants/${C.tenantId}/domains`, { domain })).json();
    assert.notEqual(b.txtRecordValue, c.txtRecordValue, 'each claim has its own token');
    txt.set(b.txtRecordName, [b.txtRecordValue, c.txtRecordValue]);
    assert.equal((await api.admin('POST', `/tenants/${B.tenantId}/domains/${domain}/verify`)).statusCode, 200);
    const second = await api.admin('POST', `/tenants/${C.tenantId}/domains/${domain}/verify`);
    assert.equal(second.statusCode, 409, second.body);
    assert.equal((await api.ok('GET', `/tenants/${C.tenantId}/domains`))[0].verified, false);
    // B releases it: C may verify it now
    assert.equal((await api.admin('DELETE', `/tenants/${B.tenantId}/domains/${domain}`)).statusCode, 204);
    assert.equal((await api.admin('POST', `/tenants/${C.tenantId}/domains/${domain}/verify`)).statusCode, 200);
    // tenants are isolated
    assert.equal((await api.admin('DELETE', `/tenants/${B.tenantId}/domains/${domain}`)).statusCode, 404);
    assert.equal((await api.admin('POST', `/tenants/${B.tenantId}/domains/${domain}/verify`)).statusCode, 404);
    assert.equal((await api.admin('POST', `/tenants/${B.tenantId}/domains`, { domain: 'not a domain' })).statusCode, 400);
  });
});
