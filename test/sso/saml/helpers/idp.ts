/**
 * A real SAML 2.0 IdP for tests: samlify in IdP mode with its own keys (fixtures/*.pem, test-only
 * self-signed certificates). It reads idpbridge's SP metadata, parses the Redirect-binding
 * AuthnRequest, and builds responses from samlify's login-response template, signed by samlify
 * (the assertion, and the response too when asked). Overrides and `mutate` change the XML before
 * signing (a real IdP saying something wrong); `tamper` helpers change a signed response after.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import samlify from 'samlify';

// The IdP side is test code: samlify's schema validation of incoming AuthnRequests is not what is under test.
samlify.setSchemaValidator({ validate: async () => 'skipped (test IdP)' });

const dir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
export type KeyName = 'idp' | 'idp-next' | 'attacker';
export const keyPem = (n: KeyName) => readFileSync(join(dir, `${n}.key.pem`), 'utf8');
export const certPem = (n: KeyName) => readFileSync(join(dir, `${n}.cert.pem`), 'utf8');

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

export interface ResponseSpec {
  nameId: string;
  /** The AuthnRequest ID answered; undefined: unsolicited (IdP-initiated). */
  inResponseTo?: string | undefined;
  /** Attribute name → value (several values: an array, one AttributeValue each). */
  attributes?: Record<string, string | string[]>;
  /** Template values replacing the defaults (Audience, SubjectRecipient, Destination, Issuer, times…). */
  values?: Record<string, string | undefined>;
  /** Changes the XML before samlify signs it. */
  mutate?: (xml: string) => string;
  /** Also sign the whole response (besides the assertion). */
  signResponse?: boolean;
}

/** The SP's HTTP-POST AssertionConsumerService Location (idpbridge's metadata names exactly one). */
const acsOf = (spMetadataXml: string) => {
  const m = spMetadataXml.match(/<(?:md:)?AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="([^"]+)"/);
  if (!m) throw new Error('the SP metadata has no HTTP-POST AssertionConsumerService');
  return m[1]!;
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export class TestSamlIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  private readonly idp: ReturnType<typeof samlify.IdentityProvider>;

  /** `key` signs; `cert` is what the IdP publishes and puts in KeyInfo (the attacker's trick: key ≠ cert). */
  /**
   * `encryptAssertions`: the assertion is encrypted to the SP's encryption certificate (from its
   * metadata) after signing; `wantAuthnRequestsSigned`: parseRequest verifies the Redirect-binding
   * signature with the SP's signing certificate (from its metadata) and refuses an unsigned request.
   */
  constructor(opts: {
    entityId?: string; ssoUrl?: string; key?: KeyName; cert?: KeyName; extraCerts?: KeyName[];
    encryptAssertions?: boolean; wantAuthnRequestsSigned?: boolean;
  } = {}) {
    this.entityId = opts.entityId ?? 'https://idp.test.example/saml';
    this.ssoUrl = opts.ssoUrl ?? 'https://idp.test.example/saml/sso';
    const certs = [opts.cert ?? opts.key ?? 'idp', ...(opts.extraCerts ?? [])].map(certPem);
    this.idp = samlify.IdentityProvider({
      entityID: this.entityId,
      privateKey: keyPem(opts.key ?? 'idp'),
      signingCert: certs.length === 1 ? certs[0]! : certs,
      singleSignOnService: [{ Binding: REDIRECT, Location: this.ssoUrl }],
      nameIDFormat: [EMAIL_FORMAT],
      wantAuthnRequestsSigned: opts.wantAuthnRequestsSigned ?? false,
      isAssertionEncrypted: opts.encryptAssertions ?? false,
    } as never);
  }

  /** The IdP's metadata XML (what an admin pastes into idpbridge). */
  metadata(): string {
    return this.idp.getMetadata();
  }

  /** Parses the AuthnRequest of a Redirect-binding URL idpbridge sent the browser to. */
  async parseRequest(spMetadataXml: string, authorizeUrl: string): Promise<{ id: string; relayState: string; acsUrl: string | undefined; issuer: string | undefined }> {
    const u = new URL(authorizeUrl);
    const sp = samlify.ServiceProvider({ metadata: spMetadataXml });
    const query = Object.fromEntries(u.searchParams);
    // What the Redirect-binding signature covers: the query as sent, without Signature (SAML bindings §3.4.4.1).
    const octetString = u.search.slice(1).split('&').filter((p) => !p.startsWith('Signature=')).join('&');
    const parsed = await this.idp.parseLoginRequest(sp, 'redirect', { query, octetString } as never);
    const req = parsed.extract.request as { id: string; assertionConsumerServiceUrl?: string };
    return { id: req.id, relayState: query.RelayState ?? '', acsUrl: req.assertionConsumerServiceUrl, issuer: parsed.extract.issuer as string | undefined };
  }

  /** A signed SAMLResponse (base64) for this SP, built by samlify. */
  async response(spMetadataXml: string, spec: ResponseSpec): Promise<string> {
    const sp = samlify.ServiceProvider({ metadata: spMetadataXml, wantMessageSigned: spec.signResponse ?? false });
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60_000).toISOString();
    const acs = acsOf(spMetadataXml);
    const attrs = Object.entries(spec.attributes ?? {});
    const values: Record<string, string | undefined> = {
      ID: `_${randomBytes(16).toString('hex')}`,
      AssertionID: `_${randomBytes(16).toString('hex')}`,
      Destination: acs,
      Audience: sp.entityMeta.getEntityID(),
      SubjectRecipient: acs,
      Issuer: this.entityId,
      IssueInstant: now.toISOString(),
      StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      ConditionsNotBefore: now.toISOString(),
      ConditionsNotOnOrAfter: later,
      SubjectConfirmationDataNotOnOrAfter: later,
      NameIDFormat: EMAIL_FORMAT,
      NameID: spec.nameId,
      InResponseTo: spec.inResponseTo,
      AuthnStatement: '@@AUTHN@@',
      AttributeStatement: '@@ATTRS@@',
      ...spec.values,
    };
    const markup = {
      AuthnStatement: `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
      AttributeStatement: attrs.length === 0 ? '' : `<saml:AttributeStatement>${attrs.map(([n, v]) =>
        `<saml:Attribute Name="${esc(n)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${(Array.isArray(v) ? v : [v]).map((x) =>
          `<saml:AttributeValue xsi:type="xs:string">${esc(x)}</saml:AttributeValue>`).join('')}</saml:Attribute>`).join('')}</saml:AttributeStatement>`,
    };
    const { context } = await this.idp.createLoginResponse(sp, {} as never, 'post', {}, {
      customTagReplacement: (template: string) => {
        // replaceTagsByValue escapes values: the two statements (markup) go in afterwards.
        let xml = samlify.SamlLib.replaceTagsByValue(template, values as Record<string, string>)
          .replace('@@AUTHN@@', markup.AuthnStatement).replace('@@ATTRS@@', markup.AttributeStatement);
        if (spec.mutate) xml = spec.mutate(xml);
        return { id: values.ID!, context: xml };
      },
    } as never);
    return context;
  }

  /** The same template, filled but never signed. */
  unsignedResponse(spMetadataXml: string, spec: ResponseSpec): string {
    const sp = samlify.ServiceProvider({ metadata: spMetadataXml });
    const acs = acsOf(spMetadataXml);
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60_000).toISOString();
    const xml = samlify.SamlLib.replaceTagsByValue(samlify.SamlLib.defaultLoginResponseTemplate.context, {
      ID: `_${randomBytes(16).toString('hex')}`, AssertionID: `_${randomBytes(16).toString('hex')}`, Destination: acs,
      Audience: sp.entityMeta.getEntityID(), SubjectRecipient: acs, Issuer: this.entityId, IssueInstant: now.toISOString(),
      StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success', ConditionsNotBefore: now.toISOString(), ConditionsNotOnOrAfter: later,
      SubjectConfirmationDataNotOnOrAfter: later, NameIDFormat: EMAIL_FORMAT, NameID: spec.nameId, InResponseTo: spec.inResponseTo as string,
      AuthnStatement: '', AttributeStatement: '',
    } as Record<string, string>);
    return Buffer.from(xml).toString('base64');
  }
}

/** Decodes a base64 SAMLResponse, changes its XML, encodes it again (after signing: an attacker's edit). */
export function tamper(samlResponse: string, edit: (xml: string) => string): string {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  const out = edit(xml);
  if (out === xml) throw new Error('tamper: the edit changed nothing');
  return Buffer.from(out).toString('base64');
}
