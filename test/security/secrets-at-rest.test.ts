/**
 * Issue 17 item 16 — reversible secrets are encrypted at rest with IDPBRIDGE_SECRET_KEY
 * (AES-256-GCM, `enc:v1:<kid>:<iv>:<tag>:<ct>`); plaintext rows are encrypted at start; rotation
 * (current key + IDPBRIDGE_SECRET_KEY_PREVIOUS) re-encrypts every row; a missing key is a clear
 * start-up error; an embedded installation without a key gets a 0600 key file in its data dir.
 */
import { it, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { keyId, parseSecretKey, SecretBox, SecretKeyError } from '../../src/lib/secret-box.js';
import { verifySignature } from '../../src/events/signature.js';
import { eachDatabase, testConfig, ADMIN_TOKEN } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';
import { FAST_WORKER, Receiver, userBody, waitFor } from '../events/helpers.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('hex');
const KEY_C = randomBytes(32).toString('base64url');
const kid = (k: string) => keyId(parseSecretKey(k));

describe('SecretBox', () => {
  it('round-trips, binds the purpose, detects tampering, and never echoes a bad key', () => {
    const box = new SecretBox(KEY_A);
    const enc = box.encrypt('whsec_plain', 'webhook.secret');
    assert.match(enc, new RegExp(`^enc:v1:${kid(KEY_A)}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$`));
    assert.notEqual(box.encrypt('whsec_plain', 'webhook.secret'), enc, 'a fresh IV each time');
    assert.equal(box.decrypt(enc, 'webhook.secret'), 'whsec_plain');
    assert.throws(() => box.decrypt(enc, 'oidc.client_secret'), SecretKeyError);
    const parts = enc.split(':');
    parts[5] = Buffer.from('x' + Buffer.from(parts[5]!, 'base64url').toString('latin1').slice(1), 'latin1').toString('base64url');
    assert.throws(() => box.decrypt(parts.join(':'), 'webhook.secret'), SecretKeyError);
    assert.equal(box.decrypt('legacy-plaintext', 'webhook.secret'), 'legacy-plaintext');
    assert.throws(() => new SecretBox(KEY_B).decrypt(enc, 'webhook.secret'), /neither IDPBRIDGE_SECRET_KEY .* nor in IDPBRIDGE_SECRET_KEY_PREVIOUS/);
    assert.equal(new SecretBox(KEY_B, [KEY_A]).decrypt(enc, 'webhook.secret'), 'whsec_plain');
    assert.equal(new SecretBox(KEY_B, [KEY_A]).needsReencrypt(enc), true);
    assert.equal(box.needsReencrypt(enc), false);
    for (const bad of ['short', 'x'.repeat(64), Buffer.alloc(31).toString('base64')]) {
      assert.throws(() => new SecretBox(bad), (e: Error) => e instanceof SecretKeyError && !e.message.includes(bad));
    }
    assert.throws(() => new SecretBox(undefined).encrypt('x', 'p'), /IDPBRIDGE_SECRET_KEY is not set/);
  });
});

const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };

eachDatabase((kind) => {
  it('webhook secrets are encrypted in the database, still sign, are encrypted at start when plaintext, and rotate', async (t) => {
    const priv = await privateDatabase(kind);
    if (!priv) return t.skip('cannot create a private database');
    const { db } = priv;
    const rx = new Receiver();
    await rx.start();
    const start = (over: Partial<Config>) => buildApp({ config: testConfig({ ...FAST_WORKER, ...over }), db, skipMigrations: true }).then((b) => b.app);
    try {
      let app = await start({ secretKey: KEY_A });
      const tenant = (await app.inject({ method: 'POST', url: '/admin/v1/tenants', headers, payload: { name: 'secrets' } })).json();
      const scimToken = (await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenant.id}/scim-tokens`, headers, payload: {} })).json().token as string;
      const hook = (await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenant.id}/webhooks`, headers, payload: { url: rx.url } })).json();
      const plaintext = hook.secret as string;
      const stored = async () => (await db.query<{ id: string; secret: string }>('SELECT id, secret FROM webhooks WHERE tenant_id = $1 ORDER BY id', [tenant.id])).rows;
      let rows = await stored();
      assert.equal(rows.length, 1);
      assert.ok(rows[0]!.secret.startsWith(`enc:v1:${kid(KEY_A)}:`), rows[0]!.secret);
      assert.ok(!rows[0]!.secret.includes(plaintext) && !rows[0]!.secret.includes(plaintext.slice(6, 20)), 'not the plaintext');

      const deliveredSigned = async (userName: string) => {
        const res = await app.inject({
          method: 'POST', url: `/scim/v2/${tenant.id}/Users`,
          headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' }, payload: userBody(userName),
        });
        assert.equal(res.statusCode, 201);
        const got = await waitFor(`delivery for ${userName}`, () => rx.received.find((r) => (r.data as { user?: { userName?: string } }).user?.userName === userName));
        assert.ok(verifySignature(plaintext, got.body, got.headers['idpbridge-signature'] as string), 'signed with the plaintext secret');
      };
      await deliveredSigned('one@example.com');

      // A row written before encryption at rest (plaintext): encrypted by the next start.
      const legacyId = randomUUID();
      await db.query(`INSERT INTO webhooks (tenant_id, id, url, secret, secret_hint, enabled) VALUES ($1, $2, 'https://example.com/legacy', 'whsec_legacy-plaintext-0123', '…0123', false)`, [tenant.id, legacyId]);
      await app.close();
      app = await start({ secretKey: KEY_A });
      rows = await stored();
      assert.ok(rows.every((r) => r.secret.startsWith(`enc:v1:${kid(KEY_A)}:`)), JSON.stringify(rows));
      assert.equal(new SecretBox(KEY_A).decrypt(rows.find((r) => r.id === legacyId)!.secret, 'webhook.secret'), 'whsec_legacy-plaintext-0123');
      await app.close();

      // Rotation: B is current, A previous → every row moves to B, and deliveries still verify.
      app = await start({ secretKey: KEY_B, secretKeysPrevious: [KEY_A] });
      rows = await stored();
      assert.ok(rows.every((r) => r.secret.startsWith(`enc:v1:${kid(KEY_B)}:`)), JSON.stringify(rows));
      await deliveredSigned('two@example.com');
      await app.close();
      // A is no longer needed...
      app = await start({ secretKey: KEY_B });
      await app.close();
      // ...but a key that never encrypted these rows is a clear start-up error, not garbage.
      await assert.rejects(start({ secretKey: KEY_C }), /encrypted with key .* neither IDPBRIDGE_SECRET_KEY .* nor in IDPBRIDGE_SECRET_KEY_PREVIOUS/);
      if (kind === 'postgres') {
        await assert.rejects(start({ secretKey: undefined }), /IDPBRIDGE_SECRET_KEY is not set, but the database holds/);
      }
    } finally {
      await rx.stop();
      await priv.drop();
    }
  });
});

describe('embedded installation without IDPBRIDGE_SECRET_KEY', () => {
  it('generates a key file (mode 0600) in the data directory on first start and keeps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idpb-key-'));
    try {
      const config = testConfig({ secretKey: undefined, dataDir: dir, databaseUrl: undefined });
      let { app } = await buildApp({ config });
      await app.close();
      const file = join(dir, 'secret.key');
      const key = readFileSync(file, 'utf8').trim();
      assert.doesNotThrow(() => parseSecretKey(key));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      ({ app } = await buildApp({ config }));
      await app.close();
      assert.equal(readFileSync(file, 'utf8').trim(), key, 'the same key on the next start');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
