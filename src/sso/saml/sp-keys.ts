import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import type { SecretBox } from '../../lib/secret-box.js';

/**
 * The SAML service provider's own key pairs, one pair per use and per connection: the encryption
 * pair (the IdP encrypts assertions to its certificate) and the signing pair (signed
 * AuthnRequests). The certificate is self-signed, as SAML metadata certificates usually are: IdPs
 * trust the key the metadata names, not a CA chain. The private key is kept encrypted at rest.
 */
export interface SpKeyPair {
  privateKeyPem: string;
  certPem: string;
}

/** Purposes (authenticated data) of the encrypted private keys (src/lib/secret-box.ts). */
export const SP_KEY_PURPOSE = { signing: 'saml.sp_signing_key', encryption: 'saml.sp_encryption_key' } as const;
export type SpKeyUse = keyof typeof SP_KEY_PURPOSE;

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const CERT_YEARS = 10;

// pkijs and asn1js load with the first key pair a SAML connection needs (an idle server's RSS, issue 21).
let pki: Promise<{ pkijs: typeof import('pkijs'); asn1js: typeof import('asn1js'); engine: import('pkijs').CryptoEngine }> | undefined;
const loadPki = () => (pki ??= Promise.all([import('pkijs'), import('asn1js')]).then(([pkijs, asn1js]) => ({
  pkijs, asn1js, engine: new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }),
})));

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;

/**
 * A certificate serial from 16 random bytes, as DER wants it: positive (top bit clear) and
 * minimally encoded (a first byte of zero would be padding, which OpenSSL and strict IdPs refuse
 * with "illegal padding"), so the first byte is kept in 0x40..0x7f: 126 random bits.
 */
export function certificateSerial(random: Buffer = randomBytes(16)): Buffer {
  const serial = Buffer.from(random);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}

/** A fresh RSA-2048 key pair and a self-signed certificate naming `commonName`, valid for ten years. */
export async function generateSpKeyPair(commonName: string, serial: Buffer = certificateSerial()): Promise<SpKeyPair> {
  const { pkijs, asn1js, engine } = await loadPki();
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  const cn = new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: commonName.slice(0, 64) }) });
  cert.subject.typesAndValues.push(cn);
  cert.issuer.typesAndValues.push(cn);
  const now = Date.now();
  cert.notBefore.value = new Date(now - 60_000);
  cert.notAfter.value = new Date(now + CERT_YEARS * 365 * 86_400_000);
  // node:crypto's webcrypto keys are the Web Crypto keys pkijs's types name.
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey as unknown as CryptoKey, engine);
  await cert.sign(keys.privateKey as unknown as CryptoKey, 'SHA-256', engine);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { privateKeyPem, certPem: pem('CERTIFICATE', Buffer.from(cert.toSchema().toBER(false))) };
}

/** True when the PEM is a certificate OpenSSL parses (a stored pair whose certificate does not is replaced on save). */
export function certificateParses(pem: string | null | undefined): boolean {
  if (!pem) return false;
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

/** A generated pair as stored: the private key encrypted for its use, the certificate as it is. */
export async function newStoredSpKeyPair(secrets: SecretBox, use: SpKeyUse, commonName: string): Promise<{ key: string; cert: string }> {
  const pair = await generateSpKeyPair(commonName);
  return { key: secrets.encrypt(pair.privateKeyPem, SP_KEY_PURPOSE[use]), cert: pair.certPem };
}
