// The SAML SP's own keys, per connection: encrypted assertions (the IdP encrypts to the encryption
// certificate the SP metadata publishes; node-saml decrypts with the stored private key) with every
// refusal repeated on encrypted responses built by samlify, XSW7 with an encrypted assertion, and
// signed AuthnRequests (Redirect binding) verified by samlify as the IdP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { eachDatabase, type TestApp } from '../../helpers/app.js';
import type { apis } from '../../idp-tokens/helpers/setup.js';
import { CookieJar, request } from '../helpers/flow.js';
import { TestSamlIdp, tamper } from './helpers/idp.js';
import { HOST_CB, SamlFixture, type SamlConnectionView } from './helpers/fixture.js';

const xmlOf = (samlResponse: string) => Buffer.from(samlResponse, 'base64').toString('utf8');
const NOT_AFTER = /(NotOnOrAfter=")[^"]+(")/g;

eachDatabase((kind) => {
  const f = new SamlFixture(kind);
  const { signIn, startSignIn, post, hostRedirect } = f;
  let t: TestApp;
  let api: ReturnType<typeof apis>;
  let conn: SamlConnectionView & { saml: { spEncryptionCertificate: string | null; spSigningCertificate: string | null; signAuthnRequests: boolean } };
  /** The same IdP (entity, keys, SSO URL), encrypting its assertions to the SP's certificate. */
  const encIdp = new TestSamlIdp({ encryptAssertions: true });

  before(async () => {
    await f.start();
    ({ t, api } = f);
    // Read over HTTP (f.conn): the URLs carry this server's address.
    conn = f.conn as typeof conn;
  });

  after(() => f.close());

  describe('encrypted assertions', () => {
    test('each connection gets its own encryption key pair: the certificate in the SP metadata, the private key encrypted at rest', async () => {
      const pem = conn.saml.spEncryptionCertificate;
      assert.ok(pem, 'the connection has an encryption certificate');
      const cert = new X509Certificate(pem);
      assert.ok(cert.verify(cert.publicKey), 'self-signed');
      assert.ok(new Date(cert.validTo).getTime() > Date.now() + 365 * 86_400_000);
      const md = await (await fetch(conn.saml.metadataUrl)).text();
      const body = pem.replace(/-----[^-]+-----|\s/g, '');
      assert.match(md, /<KeyDescriptor use="encryption">/);
      assert.ok(md.replace(/\s/g, '').includes(body), 'the metadata names the encryption certificate');
      assert.match(md, /AuthnRequestsSigned="false"/, 'requests are not signed by default');
      assert.doesNotMatch(md, /use="signing"/);
      const { rows } = await t.db.query<{ sp_encryption_key: string; sp_signing_key: string }>(
        'SELECT sp_encryption_key, sp_signing_key FROM sso_connections WHERE tenant_id = $1 AND id = $2', [t.tenantId, conn.id]);
      for (const k of [rows[0]!.sp_encryption_key, rows[0]!.sp_signing_key]) {
        assert.match(k, /^enc:v1:/, 'stored encrypted');
        assert.doesNotMatch(k, /PRIVATE KEY/);
      }
      const other = await api.ok('POST', `/tenants/${t.tenantId}/connections`, { type: 'saml', name: 'Other', idpMetadataXml: f.idp.metadata() });
      assert.notEqual(other.saml.spEncryptionCertificate, pem, 'another connection, another key');
      await api.ok('DELETE', `/tenants/${t.tenantId}/connections/${other.id}`);
    });

    test('an encrypted, signed assertion signs in (decrypted with the connection\'s key)', async () => {
      const jar = new CookieJar();
      const r = await startSignIn(jar);
      const saml = await encIdp.response(r.metadata, { inResponseTo: r.id, nameId: 'alice@acme.example' });
      const xml = xmlOf(saml);
      assert.match(xml, /EncryptedAssertion/);
      assert.doesNotMatch(xml, /<saml:Assertion|alice@acme\.example/, 'nothing readable without the key');
      const q = hostRedirect(await post(jar, saml, r.relayState));
      assert.ok(q.get('token'), q.get('error_description') ?? '');
    });

    test('the refusals hold for encrypted assertions too', async () => {
      const cases: [string, Parameters<typeof signIn>[0], string][] = [
        ['wrong Issuer', { nameId: 'alice@acme.example', values: { Issuer: 'https://evil.example/idp' } }, 'saml_wrong_issuer'],
        ['wrong Audience', { nameId: 'alice@acme.example', values: { Audience: 'https://someone-else.example/sp' } }, 'saml_wrong_audience'],
        ['wrong Recipient', { nameId: 'alice@acme.example', values: { SubjectRecipient: 'https://evil.example/acs' } }, 'saml_wrong_destination'],
        ['expired', { nameId: 'alice@acme.example', mutate: (x) => x.replace(NOT_AFTER, '$12001-01-01T00:00:00Z$2') }, 'saml_expired'],
        ['another request\'s InResponseTo', { nameId: 'alice@acme.example', inResponseTo: '_not-this-request' }, 'saml_unsolicited'],
        ['a comment inside NameID', { nameId: 'alice@acme.example', mutate: (x) => x.replace('alice@acme.example</saml:NameID>', 'alice@acme.example<!---->.evil.example</saml:NameID>') }, 'saml_invalid_response'],
      ];
      for (const [what, spec, code] of cases) {
        const q = await signIn(spec, encIdp);
        assert.equal(q.get('error_code'), code, `${what}: ${q.get('error_description')}`);
        assert.equal(q.get('token'), null);
      }
      // Signed by the attacker's key, with the IdP's certificate in KeyInfo, then encrypted to us.
      const forger = new TestSamlIdp({ key: 'attacker', cert: 'idp', encryptAssertions: true });
      assert.equal((await signIn({ nameId: 'alice@acme.example' }, forger)).get('error_code'), 'saml_invalid_signature');
    });

    test('a replayed encrypted assertion is refused (IdP-initiated)', async () => {
      await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { allowIdpInitiated: true });
      try {
        const saml = await encIdp.response(f.spMetadata, { nameId: 'alice@acme.example' });
        assert.ok(hostRedirect(await post(new CookieJar(), saml, HOST_CB)).get('token'));
        assert.equal(hostRedirect(await post(new CookieJar(), saml, HOST_CB)).get('error_code'), 'saml_replayed');
      } finally {
        await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { allowIdpInitiated: false });
      }
    });

    test('XSW7: an attacker\'s plain assertion beside the IdP\'s encrypted one is refused', async () => {
      const evil = xmlOf(f.idp.unsignedResponse(f.spMetadata, { nameId: 'mallory@acme.example' }));
      const evilAssertion = evil.match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)![0].replace('mallory@acme.example', 'alice@acme.example');
      const edits: [string, (xml: string) => string][] = [
        // XSW7: inside samlp:Extensions, which the library's XPath does not look at for its assertion count.
        ['in Extensions', (x) => x.replace(/(<\/saml:Issuer>)/, `$1<samlp:Extensions>${evilAssertion}</samlp:Extensions>`)],
        ['as a sibling', (x) => x.replace(/(<saml:EncryptedAssertion)/, `${evilAssertion}$1`)],
        ['inside Status', (x) => x.replace(/(<\/samlp:Status>)/, `<samlp:StatusDetail>${evilAssertion}</samlp:StatusDetail>$1`)],
      ];
      for (const [where, edit] of edits) {
        const q = await signIn({ nameId: 'pat@acme.example' }, encIdp, edit);
        assert.equal(q.get('error_code'), 'saml_invalid_signature', `${where}: ${q.get('error_description')}`);
      }
    });

    test('an encrypted assertion for another SP\'s key does not decrypt', async () => {
      const other = await api.ok('POST', `/tenants/${t.tenantId}/connections`, { type: 'saml', name: 'Other', idpMetadataXml: f.idp.metadata() });
      try {
        const otherMd = await (await fetch(`${f.base}/sso/saml/${t.tenantId}/${other.id as string}/metadata`)).text();
        const jar = new CookieJar();
        const r = await startSignIn(jar);
        // Encrypted to the other connection's certificate, everything else addressed to this one.
        const sealed = await encIdp.response(otherMd, {
          inResponseTo: r.id, nameId: 'alice@acme.example',
          values: { Destination: conn.saml.acsUrl, SubjectRecipient: conn.saml.acsUrl, Audience: conn.saml.spEntityId },
        });
        const q = hostRedirect(await post(jar, sealed, r.relayState));
        assert.equal(q.get('error_code'), 'saml_invalid_response', q.get('error_description') ?? '');
      } finally {
        await api.ok('DELETE', `/tenants/${t.tenantId}/connections/${other.id}`);
      }
    });
  });

  describe('signed AuthnRequests', () => {
    const strictIdp = new TestSamlIdp({ wantAuthnRequestsSigned: true });

    test('off by default: the request carries no signature, and an IdP that wants one refuses it', async () => {
      const res = await request(new CookieJar(), `${conn.saml.loginUrl}?redirect_uri=${encodeURIComponent(HOST_CB)}`);
      const url = new URL(res.headers.get('location')!);
      assert.equal(url.searchParams.get('Signature'), null);
      await assert.rejects(strictIdp.parseRequest(f.spMetadata, url.href), /ERR_MISSING_SIG_ALG|signature/i);
    });

    test('on: metadata names the signing certificate, the IdP verifies the Redirect-binding signature, a tampered request fails', async () => {
      const on = await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { signAuthnRequests: true });
      try {
        assert.equal(on.saml.signAuthnRequests, true);
        const md = await (await fetch(conn.saml.metadataUrl)).text();
        assert.match(md, /AuthnRequestsSigned="true"/);
        assert.match(md, /<KeyDescriptor use="signing">/);
        assert.ok(md.replace(/\s/g, '').includes(on.saml.spSigningCertificate.replace(/-----[^-]+-----|\s/g, '')));
        assert.match(md, /<KeyDescriptor use="encryption">/, 'the encryption certificate stays');

        const res = await request(new CookieJar(), `${conn.saml.loginUrl}?redirect_uri=${encodeURIComponent(HOST_CB)}&state=s1`);
        const url = new URL(res.headers.get('location')!);
        assert.equal(url.searchParams.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
        assert.ok(url.searchParams.get('Signature'));
        const parsed = await strictIdp.parseRequest(md, url.href);
        assert.equal(parsed.issuer, conn.saml.spEntityId);

        // The attacker swaps the RelayState (or the request) of a signed URL: the signature no longer covers it.
        const swapped = new URL(url.href);
        swapped.searchParams.set('RelayState', 'attacker-chosen');
        await assert.rejects(strictIdp.parseRequest(md, swapped.href), /SIGNATURE/);
        const other = new URL((await request(new CookieJar(), `${conn.saml.loginUrl}?redirect_uri=${encodeURIComponent(HOST_CB)}`)).headers.get('location')!);
        const mixed = new URL(url.href);
        mixed.searchParams.set('SAMLRequest', other.searchParams.get('SAMLRequest')!);
        await assert.rejects(strictIdp.parseRequest(md, mixed.href), /SIGNATURE/);

        // A signed request still completes a sign-in.
        const jar = new CookieJar();
        const r = await startSignIn(jar);
        assert.ok(new URL(r.authorizeUrl).searchParams.get('Signature'));
        const q = hostRedirect(await post(jar, await f.idp.response(r.metadata, { inResponseTo: r.id, nameId: 'alice@acme.example' }), r.relayState));
        assert.ok(q.get('token'), q.get('error_description') ?? '');
      } finally {
        await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { signAuthnRequests: false });
      }
    });
  });

  test('tamper helper sanity: an edit after encryption breaks decryption', async () => {
    const jar = new CookieJar();
    const r = await startSignIn(jar);
    const saml = await encIdp.response(r.metadata, { inResponseTo: r.id, nameId: 'alice@acme.example' });
    const broken = tamper(saml, (x) => x.replace(/(<xenc:CipherValue>)([A-Za-z0-9+/])/, (_m, a: string, c: string) => `${a}${c === 'A' ? 'B' : 'A'}`));
    const q = hostRedirect(await post(jar, broken, r.relayState));
    assert.ok(q.get('error_code'), 'refused');
    assert.equal(q.get('token'), null);
  });
});
