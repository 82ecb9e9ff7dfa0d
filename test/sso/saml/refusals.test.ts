// SAML sign-in refusals, each built from a real samlify response: re-signed by another key,
// produced with wrong values by the IdP, or tampered after signing (wrapping, comments, DOCTYPE).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, type TestApp } from '../../helpers/app.js';
import type { apis } from '../../idp-tokens/helpers/setup.js';
import { CookieJar } from '../helpers/flow.js';
import { TestSamlIdp } from './helpers/idp.js';
import { SamlFixture, type SamlConnectionView } from './helpers/fixture.js';

eachDatabase((kind) => {
  const f = new SamlFixture(kind);
  const idp = f.idp;
  const { startSignIn, post, hostRedirect, signIn } = f;
  let t: TestApp;
  let api: ReturnType<typeof apis>;
  let base: string;
  let conn: SamlConnectionView;

  before(async () => {
    await f.start();
    ({ t, api, base, conn } = f);
  });

  after(() => f.close());

  describe('refusals, each from a real response re-signed or tampered', () => {
    test('unsigned response and assertion', async () => {
      const jar = new CookieJar();
      const r = await startSignIn(jar);
      const q = hostRedirect(await post(jar, idp.unsignedResponse(r.metadata, { nameId: 'alice@acme.example', inResponseTo: r.id }), r.relayState));
      assert.equal(q.get('error_code'), 'saml_invalid_signature');
      assert.equal(q.get('token'), null);
    });

    test('signed by another key, also with the IdP\'s certificate in KeyInfo', async () => {
      const attacker = new TestSamlIdp({ key: 'attacker' });
      assert.equal((await signIn({ nameId: 'alice@acme.example' }, attacker)).get('error_code'), 'saml_invalid_signature');
      const disguised = new TestSamlIdp({ key: 'attacker', cert: 'idp' });
      assert.equal((await signIn({ nameId: 'alice@acme.example' }, disguised)).get('error_code'), 'saml_invalid_signature');
      assert.equal((await signIn({ nameId: 'alice@acme.example', signResponse: true }, disguised)).get('error_code'), 'saml_invalid_signature');
    });

    test('wrong Issuer (signed with the trusted key)', async () => {
      const other = new TestSamlIdp({ entityId: 'https://other-idp.example/saml' });
      assert.equal((await signIn({ nameId: 'alice@acme.example' }, other)).get('error_code'), 'saml_wrong_issuer');
      // only the assertion's Issuer differs (the response's is right)
      const q = await signIn({ nameId: 'alice@acme.example', mutate: (x) => x.replace(/(<saml:Assertion[^]*?<saml:Issuer>)[^<]*/, '$1https://other-idp.example/saml') });
      assert.equal(q.get('error_code'), 'saml_wrong_issuer');
    });

    test('wrong or missing Audience', async () => {
      assert.equal((await signIn({ nameId: 'alice@acme.example', values: { Audience: 'https://another-sp.example/saml' } })).get('error_code'), 'saml_wrong_audience');
      const q = await signIn({ nameId: 'alice@acme.example', mutate: (x) => x.replace(/<saml:AudienceRestriction>.*<\/saml:AudienceRestriction>/, '') });
      assert.equal(q.get('error_code'), 'saml_wrong_audience');
    });

    test('wrong Recipient, wrong Destination', async () => {
      const other = `${base}/sso/saml/${t.tenantId}/00000000-0000-4000-8000-000000000000/acs`;
      assert.equal((await signIn({ nameId: 'alice@acme.example', values: { SubjectRecipient: other } })).get('error_code'), 'saml_wrong_destination');
      assert.equal((await signIn({ nameId: 'alice@acme.example', values: { Destination: other } })).get('error_code'), 'saml_wrong_destination');
      assert.equal((await signIn({ nameId: 'alice@acme.example', signResponse: true, values: { Destination: other } })).get('error_code'), 'saml_wrong_destination');
      const noRecipient = await signIn({ nameId: 'alice@acme.example', mutate: (x) => x.replace(/ Recipient="[^"]*"/, '') });
      assert.equal(noRecipient.get('error_code'), 'saml_wrong_destination');
    });

    test('expired, not yet valid (beyond the clock skew), no NotOnOrAfter', async () => {
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      const expired = await signIn({ nameId: 'alice@acme.example', values: { ConditionsNotBefore: hourAgo, ConditionsNotOnOrAfter: hourAgo, SubjectConfirmationDataNotOnOrAfter: hourAgo, IssueInstant: hourAgo } });
      assert.equal(expired.get('error_code'), 'saml_expired', expired.get('error_description') ?? '');
      const early = await signIn({ nameId: 'alice@acme.example', values: { ConditionsNotBefore: inAnHour } });
      assert.equal(early.get('error_code'), 'saml_expired', early.get('error_description') ?? '');
      const endless = await signIn({ nameId: 'alice@acme.example', mutate: (x) => x.replace(/ NotOnOrAfter="[^"]*"/g, '') });
      assert.equal(endless.get('error_code'), 'saml_expired', endless.get('error_description') ?? '');
    });

    test('InResponseTo not matching the request this browser started', async () => {
      const jarA = new CookieJar();
      const a = await startSignIn(jarA);
      const b = await startSignIn(new CookieJar());
      const answersB = await idp.response(a.metadata, { inResponseTo: b.id, nameId: 'alice@acme.example' });
      assert.equal(hostRedirect(await post(jarA, answersB, a.relayState)).get('error_code'), 'saml_unsolicited');
      // A's own response is then refused too: the request was consumed
      const c = await startSignIn(jarA);
      const missing = await idp.response(c.metadata, { nameId: 'alice@acme.example' });
      assert.equal(hostRedirect(await post(jarA, missing, c.relayState)).get('error_code'), 'saml_unsolicited', 'no InResponseTo on an SP-initiated sign-in');
    });

    test('the browser that did not start the sign-in; a RelayState used twice', async () => {
      const jar = new CookieJar();
      const r = await startSignIn(jar);
      const saml = await idp.response(r.metadata, { inResponseTo: r.id, nameId: 'alice@acme.example' });
      const other = await post(new CookieJar(), saml, r.relayState);
      assert.equal(other.status, 400);
      assert.match(await other.text(), /invalid_state/);
      const again = await post(jar, saml, r.relayState);
      assert.equal(again.status, 400, 'the request state was consumed by the first attempt');
      assert.match(await again.text(), /invalid_state/);
    });

    test('comments inside NameID (CVE-2017-11428 class); DOCTYPE with entities', async () => {
      const q = await signIn({ nameId: 'alice@acme.example.evil.test' }, idp, (x) => x.replace('alice@acme.example.evil.test', 'alice@acme.example<!---->.evil.test'));
      assert.equal(q.get('error_code'), 'saml_invalid_response');
      assert.equal(q.get('token'), null);
      const dtd = await signIn({ nameId: 'alice@acme.example' }, idp, (x) => `<!DOCTYPE samlp:Response [<!ENTITY who "alice@acme.example">]>${x.replace(/^<\?xml[^>]*\?>/, '')}`);
      assert.equal(dtd.get('error_code'), 'saml_invalid_response');
      const pe = await signIn({ nameId: 'alice@acme.example' }, idp, (x) => `<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>${x}`);
      assert.equal(pe.get('error_code'), 'saml_invalid_response');
    });

    test('XML signature wrapping: the signed assertion moved aside, the attacker\'s in its place', async () => {
      const evil = (signedAssertion: string) => signedAssertion
        .replace(/<ds:Signature[^]*<\/ds:Signature>/, '')
        .replace(/ID="[^"]+"/, 'ID="_evil"')
        .replace(/<saml:NameID([^>]*)>[^<]*</, '<saml:NameID$1>alice@acme.example<');
      const assertionOf = (x: string) => x.match(/<saml:Assertion[^]*<\/saml:Assertion>/)![0];
      const variants: Record<string, (x: string) => string> = {
        // evil assertion first, the signed one after it
        'sibling before': (x) => x.replace(assertionOf(x), evil(assertionOf(x)) + assertionOf(x)),
        // signed assertion inside the evil one's Subject
        'nested in the evil assertion': (x) => x.replace(assertionOf(x), evil(assertionOf(x)).replace('</saml:Subject>', `${assertionOf(x)}</saml:Subject>`)),
        // signed assertion hidden in samlp:Extensions
        'in Extensions': (x) => x.replace(assertionOf(x), `<samlp:Extensions>${assertionOf(x)}</samlp:Extensions>${evil(assertionOf(x))}`),
        // a second Assertion element under another namespace (matched by local name)
        'decoy in another namespace': (x) => x.replace('</samlp:Response>', `${evil(assertionOf(x)).replace(/saml:/g, 'd:').replace('xmlns:d="urn:oasis:names:tc:SAML:2.0:assertion"', 'xmlns:d="urn:decoy"')}</samlp:Response>`),
        // the whole signed response wrapped inside an evil one
        'response wrapped': (x) => x.replace(/^(<samlp:Response[^>]*>)/, `$1`).replace(assertionOf(x), `${evil(assertionOf(x))}`) .replace('</samlp:Response>', `<samlp:Extensions>${x}</samlp:Extensions></samlp:Response>`),
      };
      for (const [name, edit] of Object.entries(variants)) {
        const q = await signIn({ nameId: 'pat@acme.example' }, idp, edit);
        assert.equal(q.get('token'), null, `${name}: no token`);
        assert.equal(q.get('error_code'), 'saml_invalid_signature', `${name}: ${q.get('error_description')}`);
      }
    });

    test('a response for another connection\'s ACS is refused there', async () => {
      const second = await api.ok('POST', `/tenants/${t.tenantId}/connections`, { type: 'saml', name: 'Subsidiary', idpMetadataXml: idp.metadata() });
      try {
        const jar = new CookieJar();
        const r = await startSignIn(jar);
        const saml = await idp.response(r.metadata, { inResponseTo: r.id, nameId: 'alice@acme.example' });
        const res = await post(jar, saml, r.relayState, `${base}${new URL(second.saml.acsUrl).pathname}`);
        assert.equal(res.status, 400, 'the RelayState belongs to the other connection');
      } finally {
        await api.ok('DELETE', `/tenants/${t.tenantId}/connections/${second.id}`);
      }
    });
  });

});
