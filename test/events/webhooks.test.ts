/**
 * Webhooks: admin API, a real receiver down then back (every event once, in order), signature
 * recipe, filters, dead letters and manual redelivery, two workers on one database.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { admin, allEvents, FAST_WORKER, Receiver, scim, userBody, waitFor } from './helpers.js';
import { buildApp } from '../../src/app.js';
import { openTestDatabase, testConfig } from '../helpers/app.js';

/** The recipe of docs/webhooks.md, verbatim. */
function verify(secret: string, rawBody: string, header: string, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  const got = String(parts.v1 ?? '');
  return got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

async function cleanup(t: TestApp, receivers: Receiver[]) {
  await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
  await t.close();
  for (const r of receivers) await r.stop();
}

const patchOp = (ops: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: ops });

eachDatabase((kind) => {
  it('admin API: create (secret once), list, get, patch, delete; filters validated', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const base = `/tenants/${t.tenantId}/webhooks`;
      const c = await admin(t.app, 'POST', base, { url: 'https://example.com/hook', events: ['user.*', 'group.created'] });
      assert.equal(c.status, 201);
      assert.match(c.body.secret, /^whsec_/);
      assert.equal(c.body.secretHint, `…${c.body.secret.slice(-4)}`);
      const own = await admin(t.app, 'POST', base, { url: 'http://127.0.0.1:9/x', secret: 'my-own-secret-0123456789' });
      assert.equal(own.body.secret, 'my-own-secret-0123456789');
      const list = await admin(t.app, 'GET', base);
      assert.equal(list.status, 200);
      assert.equal(list.body.webhooks.length, 2);
      assert.ok(!JSON.stringify(list.body).includes(c.body.secret), 'secret never listed');
      assert.ok(!JSON.stringify(list.body).includes('my-own-secret'), 'secret never listed');
      assert.equal((await admin(t.app, 'POST', base, { url: 'https://example.com', events: ['user.exploded'] })).status, 400);
      assert.equal((await admin(t.app, 'POST', base, { url: 'ftp://example.com/x' })).status, 400);
      assert.equal((await admin(t.app, 'POST', base, { url: 'https://example.com/x', secret: 'short' })).status, 400);
      const p = await admin(t.app, 'PATCH', `${base}/${c.body.id}`, { enabled: false, events: ['*'] });
      assert.equal(p.status, 200);
      assert.equal(p.body.enabled, false);
      assert.deepEqual(p.body.events, ['*']);
      assert.equal((await admin(t.app, 'GET', `${base}/${c.body.id}`)).body.url, 'https://example.com/hook');
      assert.equal((await admin(t.app, 'DELETE', `${base}/${c.body.id}`)).status, 204);
      assert.equal((await admin(t.app, 'DELETE', `${base}/${c.body.id}`)).status, 404);
      assert.equal((await admin(t.app, 'GET', `${base}/dead-letters`)).status, 200);
      const doc = await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' });
      assert.ok(doc.json().paths['/admin/v1/tenants/{tenantId}/webhooks'], 'documented in OpenAPI');
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });

  it('a receiver down for a while then recovering gets every event once, in order, signed', async () => {
    const t = await startTestApp(kind, FAST_WORKER);
    const rx = new Receiver(() => [t.tenantId]);
    await rx.start();
    try {
      const hook = await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: rx.url });
      await rx.stop(); // down: connection refused
      const call = scim(t.app, t.scimToken, t.scimBase);
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const u = await call('POST', '/Users', userBody(`user${i}@example.com`));
        assert.equal(u.status, 201);
        ids.push(u.body.id);
      }
      await call('PATCH', `/Users/${ids[0]}`, patchOp([{ op: 'Replace', path: 'active', value: false }]));
      await call('DELETE', `/Users/${ids[1]}`);
      // wait until the head delivery has failed several times
      await waitFor('failed attempts', async () => {
        const d = await admin(t.app, 'GET', `/tenants/${t.tenantId}/webhooks/${hook.body.id}/deliveries?status=pending&limit=500`);
        return d.body.deliveries.some((x: { attempts: number; lastError: string | null }) => x.attempts >= 3 && x.lastError);
      });
      assert.equal(rx.received.length, 0);
      rx.status = 503; // up but failing
      await rx.start();
      await new Promise((r) => setTimeout(r, 150));
      rx.status = 200; // recovered
      const events = await allEvents(t.app, t.tenantId);
      assert.equal(events.length, 10);
      await waitFor('all delivered', () => rx.received.length >= events.length);
      await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
      assert.deepEqual(rx.ids(), events.map((e) => e.id), 'every event once, in sequence order');
      for (const r of rx.received) {
        assert.ok(verify(hook.body.secret, r.body, String(r.headers['idpbridge-signature'])), 'signature verifies');
        assert.ok(!verify('whsec_wrong', r.body, String(r.headers['idpbridge-signature'])));
        assert.equal(r.headers['idpbridge-event-id'], r.id);
        assert.equal(r.headers['content-type'], 'application/json');
      }
      assert.ok(Number(rx.received[0]!.headers['idpbridge-delivery-attempt']) > 1);
      const d = await admin(t.app, 'GET', `/tenants/${t.tenantId}/webhooks/${hook.body.id}/deliveries?limit=500`);
      assert.equal(d.body.deliveries.length, 10);
      assert.ok(d.body.deliveries.every((x: { state: string }) => x.state === 'delivered'));
    } finally {
      await cleanup(t, [rx]);
    }
  });

  it('event filters: each webhook gets only the types it asked for', async () => {
    const t = await startTestApp(kind, FAST_WORKER);
    const groups = new Receiver(() => [t.tenantId]);
    const suspends = new Receiver(() => [t.tenantId]);
    await groups.start();
    await suspends.start();
    try {
      await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: groups.url, events: ['group.*'] });
      await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: suspends.url, events: ['user.suspended'] });
      const call = scim(t.app, t.scimToken, t.scimBase);
      const u = await call('POST', '/Users', userBody('f@example.com'));
      await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'G', members: [{ value: u.body.id }] });
      await call('PATCH', `/Users/${u.body.id}`, patchOp([{ op: 'replace', value: { active: false } }]));
      await waitFor('deliveries', () => groups.received.length >= 2 && suspends.received.length >= 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(groups.received.map((r) => r.type), ['group.created', 'group.members_added']);
      assert.deepEqual(suspends.received.map((r) => r.type), ['user.suspended']);
    } finally {
      await cleanup(t, [groups, suspends]);
    }
  });

  it('after the retry window a delivery is dead-lettered, later events still flow, manual redelivery works', async () => {
    const t = await startTestApp(kind, { ...FAST_WORKER, webhookRetryWindowMs: 250 });
    const rx = new Receiver(() => [t.tenantId]);
    await rx.start();
    try {
      const hook = await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: rx.url });
      const base = `/tenants/${t.tenantId}/webhooks/${hook.body.id}`;
      rx.status = 500;
      const call = scim(t.app, t.scimToken, t.scimBase);
      await call('POST', '/Users', userBody('dead@example.com'));
      const dead = await waitFor('dead letter', async () => {
        const r = await admin(t.app, 'GET', `/tenants/${t.tenantId}/webhooks/dead-letters`);
        return r.body.deliveries.length === 1 ? r.body.deliveries[0] : undefined;
      });
      assert.equal(dead.state, 'dead');
      assert.equal(dead.eventType, 'user.created');
      assert.equal(dead.lastStatus, 500);
      assert.ok(dead.attempts >= 2);
      assert.equal((await admin(t.app, 'GET', base)).body.dead, 1);
      rx.status = 200;
      await call('POST', '/Users', userBody('alive@example.com'));
      await waitFor('later event delivered', () => rx.received.length === 1);
      assert.equal(rx.received[0]!.data.user && (rx.received[0]!.data.user as { userName: string }).userName, 'alive@example.com');
      const r = await admin(t.app, 'POST', `${base}/deliveries/${dead.eventId}/redeliver`);
      assert.equal(r.status, 202);
      await waitFor('redelivered', () => rx.received.length === 2);
      assert.equal(rx.received[1]!.id, dead.eventId);
      assert.equal((await admin(t.app, 'GET', `${base}/deliveries?status=dead`)).body.deliveries.length, 0);
      assert.equal((await admin(t.app, 'POST', `${base}/deliveries/${hook.body.id}/redeliver`)).status, 404);
    } finally {
      await cleanup(t, [rx]);
    }
  });

  it('two workers on one database deliver without duplicates, in order', async () => {
    const t = await startTestApp(kind, FAST_WORKER);
    const db2 = await openTestDatabase(kind);
    const { app: app2 } = await buildApp({ config: testConfig(FAST_WORKER), db: db2, logger: false, skipMigrations: true });
    await app2.ready();
    const tenants = [t.tenantId];
    const receivers: Receiver[] = [];
    try {
      const extra = await Promise.all([t.newTenant('b'), t.newTenant('c')]);
      tenants.push(...extra.map((e) => e.tenantId));
      const all = [{ tenantId: t.tenantId, scimToken: t.scimToken, scimBase: t.scimBase }, ...extra];
      for (const tn of all) {
        for (let k = 0; k < 2; k++) {
          const rx = new Receiver(() => [tn.tenantId]);
          rx.delayMs = 2;
          await rx.start();
          receivers.push(rx);
          await admin(t.app, 'POST', `/tenants/${tn.tenantId}/webhooks`, { url: rx.url });
        }
      }
      // writes through both apps, concurrently per tenant
      await Promise.all(all.map(async (tn, i) => {
        for (let n = 0; n < 15; n++) {
          const app = n % 2 === 0 ? t.app : app2;
          const r = await scim(app, tn.scimToken, tn.scimBase)('POST', '/Users', userBody(`u${i}-${n}@example.com`));
          assert.equal(r.status, 201);
        }
      }));
      for (const [i, tn] of all.entries()) {
        const events = await allEvents(t.app, tn.tenantId);
        assert.equal(events.length, 15);
        for (const rx of receivers.slice(i * 2, i * 2 + 2)) {
          await waitFor('delivered', () => rx.received.length >= 15);
        }
      }
      await new Promise((r) => setTimeout(r, 150));
      for (const [i, tn] of all.entries()) {
        const expected = (await allEvents(t.app, tn.tenantId)).map((e) => e.id);
        for (const rx of receivers.slice(i * 2, i * 2 + 2)) assert.deepEqual(rx.ids(), expected, 'once each, in order');
      }
    } finally {
      for (const id of tenants) await admin(t.app, 'DELETE', `/tenants/${id}`);
      await app2.close();
      if (kind === 'postgres') await db2.close();
      await t.close();
      for (const r of receivers) await r.stop();
    }
  });
});
