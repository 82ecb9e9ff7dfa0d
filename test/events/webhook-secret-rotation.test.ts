/**
 * Webhook secret rotation with overlap: after PATCH {secret}, deliveries carry one v1 per secret
 * (new and previous) until the overlap ends; the @idpbridge/client verifier and the server's
 * recipe accept any matching v1. secretOverlapSeconds: 0 switches at once.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { admin, FAST_WORKER, Receiver, scim, userBody, waitFor } from './helpers.js';
import { verifySignature } from '../../src/events/signature.js';
import { verifyWebhookSignature } from '../../clients/node/src/webhooks.js';

const OLD = 'whsec_old-secret-0123456789abcdef';
const NEW = 'whsec_new-secret-0123456789abcdef';
const NEWER = 'whsec_newer-secret-0123456789abcd';

eachDatabase((kind) => {
  it('PATCH {secret}: signed with both secrets during the overlap; 0 switches at once', async () => {
    const t = await startTestApp(kind, FAST_WORKER);
    const rx = new Receiver(() => [t.tenantId]);
    await rx.start();
    try {
      const base = `/tenants/${t.tenantId}/webhooks`;
      const hook = (await admin(t.app, 'POST', base, { url: rx.url, secret: OLD, events: ['user.*'] })).body;
      const call = scim(t.app, t.scimToken, t.scimBase);
      const deliver = async (userName: string) => {
        const before = rx.received.length;
        assert.equal((await call('POST', '/Users', userBody(userName))).status, 201);
        await waitFor(`delivery for ${userName}`, () => rx.received.length > before);
        const r = rx.received[rx.received.length - 1]!;
        return { body: r.body, header: String(r.headers['idpbridge-signature']) };
      };
      const v1Count = (h: string) => h.split(',').filter((p) => p.startsWith('v1=')).length;

      const first = await deliver('a@x.com');
      assert.equal(v1Count(first.header), 1);
      assert.ok(verifyWebhookSignature(OLD, first.body, first.header));

      // rotate with the default overlap: both secrets verify
      assert.equal((await admin(t.app, 'PATCH', `${base}/${hook.id}`, { secret: NEW })).status, 200);
      const during = await deliver('b@x.com');
      assert.equal(v1Count(during.header), 2);
      for (const s of [OLD, NEW]) {
        assert.ok(verifyWebhookSignature(s, during.body, during.header), 'client verifier accepts any matching v1');
        assert.ok(verifySignature(s, during.body, during.header), 'server recipe accepts any matching v1');
      }
      assert.ok(!verifyWebhookSignature('whsec_unrelated-0123456789abcdef', during.body, during.header));

      // rotate again without overlap: only the newest verifies
      assert.equal((await admin(t.app, 'PATCH', `${base}/${hook.id}`, { secret: NEWER, secretOverlapSeconds: 0 })).status, 200);
      const after = await deliver('c@x.com');
      assert.equal(v1Count(after.header), 1);
      assert.ok(verifyWebhookSignature(NEWER, after.body, after.header));
      assert.ok(!verifyWebhookSignature(NEW, after.body, after.header));
      assert.ok(!verifyWebhookSignature(OLD, after.body, after.header));

      // out-of-range overlap is refused and changes nothing
      const bad = await admin(t.app, 'PATCH', `${base}/${hook.id}`, { secret: OLD, secretOverlapSeconds: -1 });
      assert.equal(bad.status, 400);
      const still = await deliver('d@x.com');
      assert.ok(verifyWebhookSignature(NEWER, still.body, still.header));
      assert.ok(!verifyWebhookSignature(OLD, still.body, still.header));
    } finally {
      await rx.stop();
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });
});
