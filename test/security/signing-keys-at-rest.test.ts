/**
 * Issue 17 item 16 — the sign-in broker's signing keys are encrypted at rest with IDPBRIDGE_SECRET_KEY
 * like the other reversible secrets (test/security/secrets-at-rest.test.ts): no private "d" in clear,
 * they still sign after a restart, plaintext rows are encrypted at start, and they rotate. A file of
 * its own: each of these tests opens private databases, and fewer WebAssembly PGlite instances per
 * test process keeps the process small.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { keyId, parseSecretKey, SecretBox } from '../../src/lib/secret-box.js';
import { openPrivateJwk } from '../../src/sso/keys.js';
import { eachDatabase, testConfig, ADMIN_TOKEN } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('hex');
const KEY_C = randomBytes(32).toString('base64url');
const kid = (k: string) => keyId(parseSecretKey(k));
const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };

eachDatabase((kind) => {
  it('sign-in signing keys are encrypted in the database (no private "d" in clear), still sign after a restart, are encrypted at start when plaintext, and rotate', async (t) => {
    const priv = await privateDatabase(kind);
    if (!priv) return t.skip('cannot create a private database');
    const { db } = priv;
    const HOST_CB = 'http://127.0.0.1:9/auth/callback';
    const start = (over: Partial<Config>) => buildApp({ config: testConfig(over), db, skipMigrations: true }).then((b) => b.app);
    const storedKeys = async () => (await db.query<{ kid: string; private_jwk: string }>('SELECT kid, private_jwk::text AS private_jwk FROM sso_signing_keys ORDER BY generation')).rows;
    try {
      let app = await start({ secretKey: KEY_A });
      const tenant = (await app.inject({ method: 'POST', url: '/admin/v1/tenants', headers, payload: { name: 'signing keys' } })).json();
      const user = (await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenant.id}/users`, headers, payload: { userName: 'guest@partner.example' } })).json();
      const lm = await app.inject({ method: 'PUT', url: `/admin/v1/tenants/${tenant.id}/users/${user.id}/login-method`, headers, payload: { method: 'password', password: 'correct horse battery staple' } });
      assert.equal(lm.statusCode, 200, lm.body);
      assert.equal((await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenant.id}/sso/redirect-uris`, headers, payload: { uri: HOST_CB } })).statusCode, 201);

      /** Signs in with the password and checks the token against the published JWKS; returns the signing kid. */
      const signIn = async (): Promise<string> => {
        const res = await app.inject({
          method: 'POST', url: `/sso/${tenant.id}/password-login`,
          payload: { userName: 'guest@partner.example', password: 'correct horse battery staple', redirect_uri: HOST_CB },
        });
        assert.equal(res.statusCode, 200, res.body);
        const token = res.json().token as string;
        const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json();
        assert.ok(jwks.keys.every((k: Record<string, unknown>) => !('d' in k)), 'only public keys are published');
        const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: HOST_CB });
        assert.equal(payload.sub, user.id);
        return decodeProtectedHeader(token).kid!;
      };
      const kidBefore = await signIn();
      const underKey = (k: string) => (rows: { private_jwk: string }[]) => rows.length > 0
        && rows.every((r) => JSON.parse(r.private_jwk).startsWith(`enc:v1:${kid(k)}:`) && !r.private_jwk.includes('"d"'));
      let rows = await storedKeys();
      assert.ok(underKey(KEY_A)(rows), JSON.stringify(rows));
      // Restarted: the key is read back (decrypted) and keeps signing, so the host's cached JWKS still verifies.
      await app.close();
      app = await start({ secretKey: KEY_A });
      assert.equal(await signIn(), kidBefore);

      // A key written before encryption at rest (a JWK object with its private "d"): read as it is
      // while it is plaintext, and encrypted by the next start.
      const plain = new SecretBox(KEY_A);
      const current = rows.find((r) => r.kid === kidBefore)!;
      const jwk = JSON.parse(plain.decrypt(JSON.parse(current.private_jwk) as string, `sso.signing_key:${kidBefore}`)) as Record<string, unknown>;
      assert.equal(typeof jwk.d, 'string');
      await db.query('UPDATE sso_signing_keys SET private_jwk = $2::jsonb WHERE kid = $1', [kidBefore, JSON.stringify(jwk)]);
      await app.close();
      app = await start({ secretKey: KEY_A });
      rows = await storedKeys();
      assert.ok(underKey(KEY_A)(rows), JSON.stringify(rows));
      assert.equal(await signIn(), kidBefore);
      await app.close();

      // Rotation: B is current, A previous → every key moves to B and still signs.
      app = await start({ secretKey: KEY_B, secretKeysPrevious: [KEY_A] });
      assert.ok(underKey(KEY_B)(await storedKeys()));
      assert.equal(await signIn(), kidBefore);
      await app.close();
      app = await start({ secretKey: KEY_B });
      assert.equal(await signIn(), kidBefore);
      await app.close();
      // A ciphertext copied onto another key's row does not decrypt there (the purpose names the kid).
      rows = await storedKeys();
      assert.ok(rows.length > 1, 'the current and the next key');
      const ct = JSON.parse(rows[0]!.private_jwk) as string;
      assert.equal(openPrivateJwk(ct, rows[0]!.kid, new SecretBox(KEY_B)).kid, rows[0]!.kid);
      assert.throws(() => openPrivateJwk(ct, rows[1]!.kid, new SecretBox(KEY_B)), /does not decrypt/);
      await assert.rejects(start({ secretKey: KEY_C }), /encrypted with key .* neither IDPBRIDGE_SECRET_KEY .* nor in IDPBRIDGE_SECRET_KEY_PREVIOUS/);
    } finally {
      await priv.drop();
    }
  });
});
