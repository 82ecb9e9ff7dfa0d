import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SAML, Profile } from '@node-saml/node-saml';
import type { SecretBox } from '../../lib/secret-box.js';
import type { Connection } from '../connections.js';
import { SsoError } from '../errors.js';
import { hasDoctype, parseXml } from './metadata.js';
import { SP_KEY_PURPOSE } from './sp-keys.js';

/**
 * idpbridge as a SAML 2.0 service provider, one SP per connection. Signature, audience and
 * validity window are checked by `@node-saml/node-saml` (xml-crypto); on top of it, checks the
 * library does not make: DOCTYPE / entity declarations, exactly one Assertion and one Response
 * element in the document (signature wrapping), the assertion's Issuer, Destination and
 * Recipient = our ACS URL, InResponseTo = the request this browser started (or none, for an
 * IdP-initiated sign-in), and no comment or other markup inside NameID. An encrypted assertion is
 * decrypted by the library with the connection's SP encryption key; the same checks then run on
 * the decrypted assertion.
 */

// node-saml (with xml-crypto and xmldom) loads on the first SAML request: an idle or SCIM-only
// server never needs it (issue 21, its RSS). require() keeps spMetadata synchronous.
const require = createRequire(import.meta.url);
let nodeSaml: typeof import('@node-saml/node-saml') | undefined;
let samlXml: typeof import('@node-saml/node-saml/lib/xml.js') | undefined;
const lib = () => (nodeSaml ??= require('@node-saml/node-saml') as typeof import('@node-saml/node-saml'));
const xmlLib = () => (samlXml ??= require('@node-saml/node-saml/lib/xml.js') as typeof import('@node-saml/node-saml/lib/xml.js'));

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** The SP's URLs for a connection; the entity ID is also the metadata URL's base. */
export function spUrls(base: string, tenantId: string, connectionId: string) {
  const entityId = `${base}/sso/saml/${tenantId}/${connectionId}`;
  return { entityId, metadataUrl: `${entityId}/metadata`, acsUrl: `${entityId}/acs`, loginUrl: `${entityId}/login` };
}

const toPem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----`;

/** The SP's private keys of a connection, decrypted for one use of the library. */
export interface SpPrivateKeys {
  /** Signs AuthnRequests; only when the connection signs them. */
  signing: string | undefined;
  /** Decrypts encrypted assertions. */
  decryption: string | undefined;
}

export function spPrivateKeys(conn: Connection, secrets: SecretBox): SpPrivateKeys {
  return {
    signing: conn.signAuthnRequests && conn.spSigningKey && conn.spSigningCert ? secrets.decrypt(conn.spSigningKey, SP_KEY_PURPOSE.signing) : undefined,
    decryption: conn.spEncryptionKey && conn.spEncryptionCert ? secrets.decrypt(conn.spEncryptionKey, SP_KEY_PURPOSE.encryption) : undefined,
  };
}

function samlFor(conn: Connection, base: string, keys: SpPrivateKeys, requestId?: string): SAML {
  const urls = spUrls(base, conn.tenantId, conn.id);
  const { SAML, ValidateInResponseTo } = lib();
  return new SAML({
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    audience: urls.entityId,
    entryPoint: conn.idpSsoUrl ?? undefined,
    // The IdP's certificates (two during a rotation); a certificate in the response's KeyInfo is never trusted.
    idpCert: conn.idpCerts.length > 0 ? conn.idpCerts.map(toPem) : 'unset',
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    // InResponseTo is checked below against the request stored in the database.
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: conn.clockSkewSeconds * 1000,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    // Redirect binding: the query carries SigAlg and Signature over SAMLRequest and RelayState.
    ...(keys.signing ? { privateKey: keys.signing, signatureAlgorithm: 'sha256' as const } : {}),
    ...(keys.decryption ? { decryptionPvk: keys.decryption } : {}),
    ...(requestId ? { generateUniqueId: () => requestId } : {}),
  });
}

/**
 * The SP metadata for the IdP's administrator: entity ID, ACS URL with the POST binding, the
 * encryption certificate (`KeyDescriptor use="encryption"`) and, when AuthnRequests are signed,
 * the signing certificate (`use="signing"`, `AuthnRequestsSigned="true"`).
 */
export function spMetadata(conn: Connection, base: string, keys: SpPrivateKeys): string {
  return samlFor(conn, base, keys).generateServiceProviderMetadata(keys.decryption ? conn.spEncryptionCert : null, keys.signing ? conn.spSigningCert : null);
}

export const newRequestId = () => `_${randomBytes(20).toString('hex')}`;

/** The IdP's SSO URL with a Redirect-binding AuthnRequest (ID = requestId) and the RelayState. */
export async function authnRequestUrl(conn: Connection, base: string, keys: SpPrivateKeys, requestId: string, relayState: string): Promise<string> {
  return samlFor(conn, base, keys, requestId).getAuthorizeUrlAsync(relayState, undefined, {});
}

export interface VerifiedAssertion {
  profile: Profile;
  assertionId: string;
  /** Until when the assertion ID must be remembered (its latest NotOnOrAfter). */
  keepUntil: Date;
  /** The InResponseTo the response carries (undefined: unsolicited). */
  inResponseTo: string | undefined;
  issuer: string;
}

const elements = (root: Document | Element, ns: string, local: string): Element[] =>
  Array.from(root.getElementsByTagNameNS(ns, local) as ArrayLike<Element>);

const bad = (message: string) => new SsoError('ERR_SAML_INVALID_RESPONSE', message);

/** CVE-2017-11428 class: a comment (or any markup) inside NameID splits its text. */
function refuseMarkupInNameId(doc: Document): void {
  for (const n of elements(doc, '*', 'NameID')) {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 3) throw bad('NameID contains a comment or markup');
    }
  }
}

/** The raw decrypted assertion: well-formed, no DTD, exactly one Assertion and no Response inside, no markup in NameID. */
async function checkDecryptedMarkup(encryptedAssertion: Element, decryptionKey: string): Promise<void> {
  let xml: string;
  try {
    xml = await xmlLib().decryptXml(encryptedAssertion.toString(), decryptionKey);
  } catch (err) {
    throw bad(`the encrypted assertion does not decrypt with this connection's SP key (${(err as Error).message})`);
  }
  if (hasDoctype(xml)) throw bad('the encrypted assertion contains a DOCTYPE (DTDs and entities are refused)');
  const doc = parseXml(xml);
  if (!doc || doc.documentElement.localName !== 'Assertion') throw bad('the encrypted assertion does not hold an Assertion');
  if (elements(doc, '*', 'Assertion').length !== 1 || elements(doc, '*', 'Response').length > 0) {
    throw new SsoError('ERR_SAML_INVALID_SIGNATURE', 'the encrypted assertion nests another Assertion or Response (signature wrapping)');
  }
  refuseMarkupInNameId(doc);
}

/** node-saml's refusal as the broker's error code. */
function libraryRefusal(err: Error): SsoError {
  const m = err.message;
  if (/expired|not yet valid|NotOnOrAfter|NotBefore/i.test(m)) return new SsoError('ERR_SAML_EXPIRED', `the SAML assertion is outside its validity window (${m})`);
  if (/audience/i.test(m)) return new SsoError('ERR_SAML_WRONG_AUDIENCE', `the SAML assertion is not for this service provider (${m})`);
  if (/signature|signed|Cannot obtain assertion|No response found|multiple assertions/i.test(m)) return new SsoError('ERR_SAML_INVALID_SIGNATURE', `the SAML response is not signed by this connection's IdP (${m})`);
  if (/Bad status code/i.test(m)) return new SsoError('ERR_IDP_ERROR', `the IdP refused the sign-in (${m})`);
  return bad(`the SAML response was refused: ${m}`);
}

/**
 * Verifies a POSTed SAMLResponse for this connection. `expectedRequestId`: the AuthnRequest this
 * browser started (SP-initiated), or undefined for an unsolicited response (IdP-initiated), which
 * must then carry no InResponseTo. Throws SsoError with the reason.
 */
export async function verifySamlResponse(
  conn: Connection, base: string, keys: SpPrivateKeys, samlResponse: string, expectedRequestId: string | undefined,
): Promise<VerifiedAssertion> {
  if (!conn.idpEntityId || conn.idpCerts.length === 0) throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'this SAML connection has no IdP metadata yet');
  if (samlResponse.length > 1_000_000 || !/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) throw bad('SAMLResponse is not base64');
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  if (hasDoctype(xml)) throw bad('the SAML response contains a DOCTYPE (DTDs and entities are refused)');
  const doc = parseXml(xml);
  if (!doc) throw bad('the SAML response is not well-formed XML');
  const root = doc.documentElement;
  if (root.namespaceURI !== PROTOCOL || root.localName !== 'Response') throw bad('the SAML message is not a samlp:Response');
  // Signature wrapping moves a signed assertion aside and adds the attacker's: one of each, nothing more.
  // Counted by local name in any namespace: the library's XPath matches on local names too.
  if (elements(doc, '*', 'Response').length !== 1) throw new SsoError('ERR_SAML_INVALID_SIGNATURE', 'the SAML response nests another Response (signature wrapping)');
  // An encrypted assertion stands alone: a plain Assertion next to it, anywhere in the document,
  // is an attacker's (XSW7 and its kin) — the library would read one while verifying the other.
  const encrypted = elements(doc, '*', 'EncryptedAssertion').length;
  const plain = elements(doc, '*', 'Assertion').length;
  if (encrypted > 0 && !keys.decryption) throw bad('the SAML response carries an encrypted assertion, but this connection has no SP encryption key yet (save the connection to generate one)');
  if (encrypted + plain !== 1) throw new SsoError('ERR_SAML_INVALID_SIGNATURE', 'the SAML response must hold exactly one assertion, plain or encrypted (signature wrapping)');
  refuseMarkupInNameId(doc);
  // The library reads an encrypted assertion in its canonical form, where comments are gone: the
  // checks on the raw markup run on the decrypted text here (the library's own decryption).
  if (encrypted === 1) await checkDecryptedMarkup(elements(doc, '*', 'EncryptedAssertion')[0]!, keys.decryption!);
  const acsUrl = spUrls(base, conn.tenantId, conn.id).acsUrl;
  const destination = root.getAttribute('Destination');
  if (destination && destination !== acsUrl) throw new SsoError('ERR_SAML_WRONG_DESTINATION', `the SAML response is addressed to ${destination}, not this connection's ACS URL`);

  let profile: Profile;
  try {
    const r = await samlFor(conn, base, keys).validatePostResponseAsync({ SAMLResponse: samlResponse });
    if (!r.profile) throw new Error('Missing SAML assertion');
    profile = r.profile;
  } catch (err) {
    if (err instanceof SsoError) throw err;
    throw libraryRefusal(err as Error);
  }

  // From here: the assertion node-saml verified (decrypted, when it came encrypted), not whatever
  // else the document holds; the document-level checks above are repeated on it.
  const verifiedXml = profile.getAssertionXml?.() ?? '';
  if (hasDoctype(verifiedXml)) throw bad('the SAML assertion contains a DOCTYPE (DTDs and entities are refused)');
  const signed = parseXml(verifiedXml);
  const assertion = signed?.documentElement;
  if (!signed || !assertion || assertion.localName !== 'Assertion') throw bad('the verified assertion could not be read');
  if (elements(signed, '*', 'Assertion').length !== 1 || elements(signed, '*', 'Response').length > 0) {
    throw new SsoError('ERR_SAML_INVALID_SIGNATURE', 'the verified assertion nests another Assertion or Response (signature wrapping)');
  }
  refuseMarkupInNameId(signed);
  const assertionId = assertion.getAttribute('ID');
  if (!assertionId) throw bad('the assertion has no ID');
  const issuer = elements(assertion, ASSERTION, 'Issuer')[0]?.textContent?.trim() ?? '';
  if (issuer !== conn.idpEntityId) throw new SsoError('ERR_SAML_WRONG_ISSUER', `the assertion's Issuer is "${issuer}", not this connection's IdP (${conn.idpEntityId})`);
  const responseIssuer = Array.from(root.childNodes as ArrayLike<Node>).find((n): n is Element => n.nodeType === 1 && (n as Element).localName === 'Issuer');
  if (responseIssuer && responseIssuer.textContent?.trim() !== conn.idpEntityId) throw new SsoError('ERR_SAML_WRONG_ISSUER', `the response's Issuer is "${responseIssuer.textContent?.trim()}", not this connection's IdP`);

  // Bearer confirmation: Recipient must be our ACS URL; its InResponseTo and NotOnOrAfter are read too.
  const confirmations = elements(assertion, ASSERTION, 'SubjectConfirmation')
    .filter((s) => s.getAttribute('Method') === 'urn:oasis:names:tc:SAML:2.0:cm:bearer');
  const data = confirmations.flatMap((s) => elements(s, ASSERTION, 'SubjectConfirmationData'));
  if (data.length === 0) throw bad('the assertion has no bearer SubjectConfirmationData');
  for (const d of data) {
    const recipient = d.getAttribute('Recipient');
    if (recipient !== acsUrl) throw new SsoError('ERR_SAML_WRONG_DESTINATION', `the assertion's Recipient is ${recipient ? `"${recipient}"` : 'missing'}, not this connection's ACS URL`);
  }
  const inResponseTos = new Set<string>();
  const responseIrt = root.getAttribute('InResponseTo');
  if (responseIrt) inResponseTos.add(responseIrt);
  for (const d of data) {
    const v = d.getAttribute('InResponseTo');
    if (v) inResponseTos.add(v);
  }
  if (expectedRequestId === undefined) {
    if (inResponseTos.size > 0) throw new SsoError('ERR_SAML_UNSOLICITED', 'the SAML response answers a sign-in this browser did not start here (InResponseTo without a matching RelayState)');
  } else if (inResponseTos.size !== 1 || !inResponseTos.has(expectedRequestId)) {
    throw new SsoError('ERR_SAML_UNSOLICITED', 'the SAML response does not answer the sign-in request this browser started (InResponseTo)');
  }

  const now = Date.now();
  const times = [...data.map((d) => d.getAttribute('NotOnOrAfter')), ...elements(assertion, ASSERTION, 'Conditions').map((c) => c.getAttribute('NotOnOrAfter'))]
    .filter((t): t is string => !!t).map((t) => Date.parse(t)).filter((t) => Number.isFinite(t));
  // An assertion without an end of validity could be replayed for ever.
  if (times.length === 0) throw new SsoError('ERR_SAML_EXPIRED', 'the assertion has no NotOnOrAfter');
  const keepUntil = new Date(Math.max(Math.max(...times), now) + conn.clockSkewSeconds * 1000);
  return { profile, assertionId, keepUntil, inResponseTo: expectedRequestId, issuer };
}
