/**
 * F-saml floor: bare node:http validating each POSTed SAMLResponse with @node-saml/node-saml, set up as
 * idpbridge's SP is (src/sso/saml/sp.ts: signed assertion required, the IdP's certificate only, audience
 * = the connection's entity ID, InResponseTo not checked by the library), and answering 303 like an ACS.
 * No database, no replay cache, no identity: the library's work alone.
 *   env PORT, FLOOR_IDP_CERTS (JSON array of PEM), FLOOR_ENTITY_ID, FLOOR_ACS_URL
 */
import http from 'node:http';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';

const entityId = process.env.FLOOR_ENTITY_ID!;
const saml = new SAML({
  issuer: entityId,
  callbackUrl: process.env.FLOOR_ACS_URL!,
  audience: entityId,
  idpCert: JSON.parse(process.env.FLOOR_IDP_CERTS!) as string[],
  wantAssertionsSigned: true,
  wantAuthnResponseSigned: false,
  validateInResponseTo: ValidateInResponseTo.never,
  acceptedClockSkewMs: 120_000,
  identifierFormat: null,
  disableRequestedAuthnContext: true,
});

http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const SAMLResponse = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('SAMLResponse');
    if (!SAMLResponse) { res.writeHead(200).end('ok'); return; }
    saml.validatePostResponseAsync({ SAMLResponse }).then(
      (r) => res.writeHead(303, { location: `/done?token=${encodeURIComponent(r.profile?.nameID ?? '')}` }).end(),
      (err: Error) => res.writeHead(303, { location: `/done?error=${encodeURIComponent(err.message)}` }).end(),
    );
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
