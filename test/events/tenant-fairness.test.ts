/**
 * Issue 17 item 11 — one tenant's slow webhooks must not delay another tenant's deliveries, and a
 * tenant's webhooks are capped (IDPBRIDGE_WEBHOOKS_PER_TENANT_MAX).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { admin, FAST_WORKER, Receiver, scim, userBody, waitFor } from './helpers.js';

eachDatabase((kind) => {
  it("tenant A's 40 slow receivers (3 s each) do not delay tenant B's deliveries", async () => {
    const t = await startTestApp(kind, { ...FAST_WORKER, webhookTimeoutMs: 10_000, webhooksPerTenantMax: 50 });
    const a = { tenantId: t.tenantId, scimToken: t.scimToken, scimBase: t.scimBase };
    const b = await t.newTenant('Tenant B');
    const slow = new Receiver(() => [a.tenantId]);
    slow.delayMs = 3_000;
    const fast = new Receiver(() => [b.tenantId]);
    await slow.start();
    await fast.start();
    try {
      for (let i = 0; i < 40; i++) {
        const r = await admin(t.app, 'POST', `/tenants/${a.tenantId}/webhooks`, { url: `${slow.url}?n=${i}`, events: ['user.created'] });
        assert.equal(r.status, 201);
      }
      assert.equal((await admin(t.app, 'POST', `/tenants/${b.tenantId}/webhooks`, { url: fast.url, events: ['user.created'] })).status, 201);
      const callA = scim(t.app, a.scimToken, a.scimBase);
      const callB = scim(t.app, b.scimToken, b.scimBase);
      // A's 40 queues fill up with deliveries that take 3 s each.
      for (let i = 0; i < 3; i++) assert.equal((await callA('POST', '/Users', userBody(`a${i}@example.com`))).status, 201);
      await new Promise((r) => setTimeout(r, 300)); // A's slow deliveries are in flight now
      const latencies: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = fast.received.length;
        const started = Date.now();
        assert.equal((await callB('POST', '/Users', userBody(`b${i}@example.com`))).status, 201);
        await waitFor("tenant B's delivery", () => fast.received.length > before, 10_000, 5);
        latencies.push(Date.now() - started);
      }
      const worst = Math.max(...latencies);
      console.log(`[${kind}] tenant B delivery latency with A's 40 slow receivers busy: ${latencies.join(', ')} ms`);
      assert.ok(worst < 1_500, `tenant B waited ${worst} ms`);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${a.tenantId}`);
      await admin(t.app, 'DELETE', `/tenants/${b.tenantId}`);
      await t.close();
      await slow.stop();
      await fast.stop();
    }
  });

  it('a tenant may have at most IDPBRIDGE_WEBHOOKS_PER_TENANT_MAX webhooks (409 ERR_WEBHOOK_LIMIT)', async () => {
    const t = await startTestApp(kind, { worker: false, webhooksPerTenantMax: 3 });
    try {
      const base = `/tenants/${t.tenantId}/webhooks`;
      const made = await Promise.all([0, 1, 2, 3, 4].map((i) => admin(t.app, 'POST', base, { url: `https://example.com/h${i}` })));
      assert.equal(made.filter((r) => r.status === 201).length, 3, 'concurrent creations cannot pass the cap');
      const refused = made.find((r) => r.status !== 201)!;
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'ERR_WEBHOOK_LIMIT');
      assert.equal((await admin(t.app, 'GET', base)).body.webhooks.length, 3);
      const other = await t.newTenant('other');
      assert.equal((await admin(t.app, 'POST', `/tenants/${other.tenantId}/webhooks`, { url: 'https://example.com/o' })).status, 201, 'per tenant');
      await admin(t.app, 'DELETE', `${base}/${made.find((r) => r.status === 201)!.body.id}`);
      assert.equal((await admin(t.app, 'POST', base, { url: 'https://example.com/again' })).status, 201);
      await admin(t.app, 'DELETE', `/tenants/${other.tenantId}`);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });
});
