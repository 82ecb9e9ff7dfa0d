import { createRequire } from 'node:module';

// xmldom loads on the first XML to parse (IdP metadata, a SAML response): a server that never
// sees one does not carry it. require() keeps parseXml synchronous.
const require = createRequire(import.meta.url);
let xmldom: typeof import('@xmldom/xmldom') | undefined;
const domParser = () => (xmldom ??= require('@xmldom/xmldom') as typeof import('@xmldom/xmldom')).DOMParser;

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** What idpbridge needs from an IdP's SAML metadata. */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService with the HTTP-Redirect binding. */
  ssoUrl: string;
  /** Base64 DER bodies of the signing certificates (two during a rotation). */
  certs: string[];
}

export class MetadataError extends Error {}

/** True when the XML carries a document type declaration (DTD, entities): refused everywhere. */
export const hasDoctype = (xml: string) => /<!DOCTYPE|<!ENTITY/i.test(xml);

/** Parses XML strictly: no DTD, no parser warnings; undefined when it is not well-formed. */
export function parseXml(xml: string): Document | undefined {
  if (hasDoctype(xml)) return undefined;
  let failed = false;
  const DOMParser = domParser();
  const doc = new DOMParser({
    errorHandler: { warning: () => { failed = true; }, error: () => { failed = true; }, fatalError: () => { failed = true; } },
  }).parseFromString(xml, 'text/xml');
  if (failed || !doc?.documentElement) return undefined;
  return doc as unknown as Document;
}

const children = (el: Element, ns: string, local: string): Element[] => {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === local) out.push(n as Element);
  }
  return out;
};

/** Normalises a PEM or base64 certificate to its base64 body (one line). */
export function certBody(pemOrBase64: string): string {
  return pemOrBase64.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

export const isCertBody = (b: string) => /^[A-Za-z0-9+/]+={0,2}$/.test(b) && b.length >= 200 && b.length <= 16_000;

/** Reads the IdP's entity ID, redirect-binding SSO URL and signing certificates from its metadata XML. */
export function parseIdpMetadata(xml: string): IdpMetadata {
  if (xml.length > 500_000) throw new MetadataError('the metadata is larger than 500 kB');
  if (hasDoctype(xml)) throw new MetadataError('the metadata contains a DOCTYPE (DTDs are refused)');
  const doc = parseXml(xml);
  if (!doc) throw new MetadataError('the metadata is not well-formed XML');
  let entity: Element = doc.documentElement;
  if (entity.namespaceURI === MD && entity.localName === 'EntitiesDescriptor') {
    const all = children(entity, MD, 'EntityDescriptor').filter((e) => children(e, MD, 'IDPSSODescriptor').length > 0);
    if (all.length !== 1) throw new MetadataError(`the metadata holds ${all.length} IdP entities; paste the one of this IdP`);
    entity = all[0]!;
  }
  if (entity.namespaceURI !== MD || entity.localName !== 'EntityDescriptor') throw new MetadataError('the metadata has no md:EntityDescriptor');
  const entityId = entity.getAttribute('entityID');
  if (!entityId) throw new MetadataError('the EntityDescriptor has no entityID');
  const idp = children(entity, MD, 'IDPSSODescriptor')[0];
  if (!idp) throw new MetadataError('the metadata has no IDPSSODescriptor (is it the SP\'s metadata?)');
  const sso = children(idp, MD, 'SingleSignOnService').find((s) => s.getAttribute('Binding') === REDIRECT);
  const ssoUrl = sso?.getAttribute('Location');
  if (!ssoUrl) throw new MetadataError('the IdP offers no SingleSignOnService with the HTTP-Redirect binding');
  const certs: string[] = [];
  for (const kd of children(idp, MD, 'KeyDescriptor')) {
    const use = kd.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const ki of children(kd, DS, 'KeyInfo')) {
      for (const xd of children(ki, DS, 'X509Data')) {
        for (const c of children(xd, DS, 'X509Certificate')) {
          const body = certBody(c.textContent ?? '');
          if (isCertBody(body) && !certs.includes(body)) certs.push(body);
        }
      }
    }
  }
  if (certs.length === 0) throw new MetadataError('the IdP metadata names no signing certificate');
  return { entityId, ssoUrl, certs };
}
