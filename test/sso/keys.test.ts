// idpbridge's signing keys: one per rotation period, the next published ahead, the previous kept,
// and two processes (two SigningKeys on one database) agreeing on the same key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { eachDatabase, openTestDatabase, TEST_SECRET_KEY } from '../helpers/app.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import type { Database } from '../../src/db/types.js';
import { SigningKeys } from '../../src/sso/keys.js';

const DAY = 86_400_000;
const secrets = new SecretBox(TEST_SECRET_KEY);

eachDatabase((kind) => {
  let db: Database;
  before(async () => {
    db = await openTestDatabase(kind);
  });
  after(async () => {
    await db?.close();
  });

  test('rotation with overlap: sign with the current key, publish previous + current + next', async () => {
    // A clock far from now and unique per run, so generations do not collide with other tests' keys.
    let now = (20_000 + Math.floor(Math.random() * 1_000_000)) * 7 * DAY;
    const a = new SigningKeys(db, { alg: 'ES256', rotationMs: 7 * DAY, secrets, now: () => now });
    const b = new SigningKeys(db, { alg: 'ES256', rotationMs: 7 * DAY, secrets, now: () => now });
    const opts = { issuer: 'https://idpbridge.test', audience: 'https://app.test/cb', subject: 'u1', ttlSeconds: 300, jti: 'j1' };

    const [t1, t1b] = await Promise.all([a.sign({ tenant: 't' }, opts), b.sign({ tenant: 't' }, opts)]);
    const kid1 = decodeProtectedHeader(t1.token).kid;
    assert.equal(decodeProtectedHeader(t1b.token).kid, kid1, 'both processes sign with the same key');
    const jwks1 = await a.jwks();
    assert.equal(jwks1.keys.length, 2, 'current and next (no previous yet)');
    assert.ok(jwks1.keys.every((k) => !('d' in k)), 'public keys only');
    const nextKid = jwks1.keys[1]!.kid;

    now += 7 * DAY;
    const t2 = await b.sign({ tenant: 't' }, opts);
    assert.equal(decodeProtectedHeader(t2.token).kid, nextKid, 'the key published ahead signs next');
    const jwks2 = await b.jwks();
    assert.deepEqual(jwks2.keys.map((k) => k.kid).sort(), [kid1, nextKid, jwks2.keys[1]!.kid].sort());
    // A verifier holding the new JWKS still accepts a token of the previous key (in flight across the switch).
    const set = createLocalJWKSet(jwks2);
    await jwtVerify(t1.token, set, { issuer: opts.issuer, audience: opts.audience, currentDate: new Date(now - 7 * DAY + 1000) });

    now += 14 * DAY;
    const jwks3 = await a.jwks();
    assert.ok(!jwks3.keys.some((k) => k.kid === kid1), 'keys two periods old are no longer published');
  });

  test('RS256 keys work too', async () => {
    const now = (30_000_000 + Math.floor(Math.random() * 1_000_000)) * DAY;
    const k = new SigningKeys(db, { alg: 'RS256', rotationMs: DAY, secrets, now: () => now });
    const { token } = await k.sign({}, { issuer: 'i', audience: 'a', subject: 's', ttlSeconds: 60, jti: 'j' });
    assert.equal(decodeProtectedHeader(token).alg, 'RS256');
    await jwtVerify(token, createLocalJWKSet(await k.jwks()), { currentDate: new Date(now + 1000) });
  });
});
