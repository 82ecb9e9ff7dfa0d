// The SP's self-signed certificates are valid DER whatever the random serial: a serial whose first
// byte came out zero was once encoded with padding, and one certificate in ~250 failed to parse
// ("illegal padding") in OpenSSL, samlify and strict IdPs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import { certificateSerial, generateSpKeyPair } from '../../../src/sso/saml/sp-keys.js';
import { eachDatabase, startTestApp } from '../../helpers/app.js';
import { TestSamlIdp } from './helpers/idp.js';

test('the certificate serial is positive and minimally encoded, whatever the random bytes', () => {
  const inputs = [Buffer.alloc(16), Buffer.from('00ff' + '11'.repeat(14), 'hex'), Buffer.from('0001' + '22'.repeat(14), 'hex'),
    Buffer.from('80' + '00'.repeat(15), 'hex'), Buffer.alloc(16, 0xff), randomBytes(16)];
  for (const r of inputs) {
    const s = certificateSerial(r);
    assert.equal(s.length, 16);
    assert.ok(s[0]! >= 0x40 && s[0]! < 0x80, `first byte ${s[0]!.toString(16)}: non-zero and top bit clear`);
    assert.deepEqual(s.subarray(1), r.subarray(1), 'the other 15 bytes stay random');
  }
});

test('certificates parse in OpenSSL for serials that start with zero bytes', async () => {
  for (const r of [Buffer.alloc(16), Buffer.from('0005' + '33'.repeat(14), 'hex')]) {
    const serial = certificateSerial(r);
    const pair = await generateSpKeyPair('acme.example', serial);
    const cert = new X509Certificate(pair.certPem);
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(cert.serialNumber.toLowerCase(), serial.toString('hex'));
    assert.equal(cert.subject, 'CN=acme.example');
  }
});

eachDatabase((kind) => {
  test('a connection whose stored certificate does not parse gets a new pair when saved; a good pair stays', async () => {
    const t = await startTestApp(kind);
    try {
      const call = async (method: 'POST' | 'PATCH', url: string, payload: object) => {
        const r = await t.app.inject({ method, url: `/admin/v1/tenants/${t.tenantId}${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, payload });
        assert.ok(r.statusCode < 300, r.body);
        return r.json();
      };
      const created = await call('POST', '/connections', { type: 'saml', name: 'Padded', idpMetadataXml: new TestSamlIdp().metadata() });
      // What the old serial made one time in ~250: a leading zero byte, DER padding OpenSSL refuses.
      const padded = (await generateSpKeyPair('padded', Buffer.alloc(16))).certPem;
      assert.throws(() => new X509Certificate(padded), /illegal padding/);
      await t.db.query('UPDATE sso_connections SET sp_encryption_cert = $3 WHERE tenant_id = $1 AND id = $2', [t.tenantId, created.id, padded]);
      const saved = await call('PATCH', `/connections/${created.id}`, { name: 'Padded (saved)' });
      assert.notEqual(saved.saml.spEncryptionCertificate, padded);
      assert.ok(new X509Certificate(saved.saml.spEncryptionCertificate).verify(new X509Certificate(saved.saml.spEncryptionCertificate).publicKey));
      assert.equal(saved.saml.spSigningCertificate, created.saml.spSigningCertificate, 'the signing pair parses and stays');
    } finally {
      await t.close();
    }
  });
});
