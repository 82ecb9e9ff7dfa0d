/**
 * Issue 17 item 1 — SSRF: outbound requests (webhooks, OIDC fetches) never reach loopback,
 * private, link-local or metadata addresses unless IDPBRIDGE_ALLOW_PRIVATE_TARGETS allows them;
 * checked on the resolved address at connect time; a refusal says one fixed reason and nothing
 * the receiver answered is ever shown.
 */
import { it, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { admin, FAST_WORKER, scim, userBody, waitFor } from '../events/helpers.js';
import { createOutboundAgent, embeddedIPv4, isRefusedAddress, TargetPolicy, TARGET_NOT_ALLOWED, isTargetNotAllowed } from '../../src/lib/outbound.js';
import { createWebhook } from '../../src/events/webhooks.js';

const LEAK = 'internal-secret-body-7d1e';

/** A loopback HTTP server that counts connections and answers 500 with a body that must never leak. */
class Internal {
  connections = 0;
  requests = 0;
  private server: Server | undefined;
  port = 0;
  async start(host = '127.0.0.1'): Promise<void> {
    const server = createServer((req, res) => {
      this.requests++;
      req.resume();
      req.on('end', () => {
        res.statusCode = 500;
        res.end(`${LEAK}: database password is hunter2`);
      });
    });
    server.on('connection', () => this.connections++);
    await new Promise<void>((r) => server.listen(0, host, () => r()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('address classification', () => {
  it('refuses every internal range and its IPv6 forms; public addresses pass', () => {
    const refused = [
      '127.0.0.1', '127.255.255.254', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.255',
      '169.254.169.254', '169.254.0.1', '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1',
      '::', '::1', 'fc00::1', 'fd00:ec2::254', 'fe80::1', 'ff02::1', 'fec0::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '0:0:0:0:0:ffff:c0a8:101',
      '::127.0.0.1', '64:ff9b::10.0.0.1', '64:ff9b::a9fe:a9fe', 'not-an-address',
    ];
    for (const a of refused) assert.equal(isRefusedAddress(a), true, a);
    for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      assert.equal(isRefusedAddress(a), false, a);
    }
    assert.equal(embeddedIPv4('::ffff:7f00:1'), '127.0.0.1');
  });

  it('the allow list takes hosts and CIDRs (also for IPv4-mapped forms) and rejects nonsense', () => {
    const p = TargetPolicy.parse('127.0.0.1/8, 10.1.0.0/16, hooks.internal, fd12::/16');
    assert.equal(p.allows('x', '127.0.0.9'), true);
    assert.equal(p.allows('x', '::ffff:127.0.0.9'), true);
    assert.equal(p.allows('x', '10.1.2.3'), true);
    assert.equal(p.allows('x', '10.2.0.1'), false);
    assert.equal(p.allows('x', '169.254.169.254'), false);
    assert.equal(p.allows('HOOKS.internal', '10.9.9.9'), true);
    assert.equal(p.allows('x', 'fd12::5'), true);
    assert.equal(p.allows('x', 'fd13::5'), false);
    for (const bad of ['10.0.0.0/33', 'a b', '1.2.3.4/x', 'http://x']) assert.throws(() => TargetPolicy.parse(bad), /IDPBRIDGE_ALLOW_PRIVATE_TARGETS/);
    // Registration-time check: literals and localhost only; names wait for connect time.
    const none = new TargetPolicy();
    for (const u of ['http://127.0.0.1/x', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/', 'http://0x7f.1/', 'http://169.254.169.254/latest', 'http://localhost:8080/', 'http://[fd00:ec2::254]/']) {
      assert.equal(none.refusesUrl(u), true, u);
    }
    for (const u of ['https://example.com/x', 'https://8.8.8.8/x', 'http://rebind.example/']) assert.equal(none.refusesUrl(u), false, u);
    assert.equal(p.refusesUrl('http://127.0.0.1:9/'), false);
  });
});

describe('the outbound agent checks the address it connects to', () => {
  const internal = new Internal();
  before(() => internal.start());
  after(() => internal.stop());

  const get = (agent: ReturnType<typeof createOutboundAgent>, url: string) => request(url, { dispatcher: agent, method: 'GET' });

  it('an IP literal in a refused range: refused before any connection, with the fixed reason', async () => {
    const agent = createOutboundAgent(new TargetPolicy());
    try {
      const before = internal.connections;
      for (const url of [`http://127.0.0.1:${internal.port}/`, `http://[::ffff:127.0.0.1]:${internal.port}/`, `http://[::ffff:7f00:1]:${internal.port}/`]) {
        const err = await get(agent, url).then(() => undefined, (e: unknown) => e);
        assert.ok(isTargetNotAllowed(err), `${url}: ${String(err)}`);
        assert.equal((err as Error).message, TARGET_NOT_ALLOWED);
      }
      assert.equal(internal.connections, before, 'no connection was made');
    } finally {
      await agent.close();
    }
  });

  it('a host name resolving to 127.0.0.1 (DNS rebinding) is refused at connect time; allowed once the CIDR is configured', async () => {
    let lookups = 0;
    const resolve = async (host: string) => {
      lookups++;
      assert.equal(host, 'rebind.example');
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const url = `http://rebind.example:${internal.port}/`;
    assert.equal(new TargetPolicy().refusesUrl(url), false, 'a name passes registration');
    const refused = createOutboundAgent(new TargetPolicy(), { resolve });
    const before = internal.connections;
    try {
      const err = await get(refused, url).then(() => undefined, (e: unknown) => e);
      assert.ok(isTargetNotAllowed(err), String(err));
      assert.equal((err as Error).message, TARGET_NOT_ALLOWED);
      assert.ok(lookups >= 1, 'the name was resolved at connect time');
      assert.equal(internal.connections, before, 'no connection was made');
    } finally {
      await refused.close();
    }
    // A name with a public and a private address: only the public one may be used (none here → refused).
    const mixed = createOutboundAgent(new TargetPolicy(), { resolve: async () => [{ address: '10.0.0.1', family: 4 }, { address: '169.254.169.254', family: 4 }] });
    try {
      assert.ok(isTargetNotAllowed(await get(mixed, 'http://mixed.example/').then(() => undefined, (e: unknown) => e)));
    } finally {
      await mixed.close();
    }
    const allowed = createOutboundAgent(new TargetPolicy(['127.0.0.0/8']), { resolve });
    try {
      const res = await get(allowed, url);
      assert.equal(res.statusCode, 500);
      await res.body.dump();
      assert.equal(internal.connections, before + 1);
    } finally {
      await allowed.close();
    }
    // Allowed by name: the operator's host entry lets it resolve anywhere.
    const byName = createOutboundAgent(new TargetPolicy(['rebind.example']), { resolve });
    try {
      const res = await get(byName, url);
      assert.equal(res.statusCode, 500);
      await res.body.dump();
    } finally {
      await byName.close();
    }
  });

  it('localhost through the system resolver is refused at connect time', async () => {
    const agent = createOutboundAgent(new TargetPolicy());
    try {
      const before = internal.connections;
      const err = await get(agent, `http://localhost:${internal.port}/`).then(() => undefined, (e: unknown) => e);
      assert.ok(isTargetNotAllowed(err), String(err));
      assert.equal(internal.connections, before);
    } finally {
      await agent.close();
    }
  });
});

eachDatabase((kind) => {
  it('webhooks: an internal URL is refused at registration (400); a rebound one at delivery, with the fixed reason and nothing leaked', async () => {
    const internal = new Internal();
    await internal.start();
    const t = await startTestApp(kind, { ...FAST_WORKER, allowPrivateTargets: [] });
    try {
      const base = `/tenants/${t.tenantId}/webhooks`;
      for (const url of [`http://127.0.0.1:${internal.port}/hook`, 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]/x', 'http://[fd00:ec2::254]/', 'http://10.0.0.1/', 'http://localhost/x']) {
        const r = await admin(t.app, 'POST', base, { url });
        assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'ERR_TARGET_NOT_ALLOWED');
      }
      const ok = await admin(t.app, 'POST', base, { url: 'https://example.com/hook', enabled: false });
      assert.equal(ok.status, 201);
      assert.equal((await admin(t.app, 'PATCH', `${base}/${ok.body.id}`, { url: `http://127.0.0.1:${internal.port}/` })).body?.code, 'ERR_TARGET_NOT_ALLOWED');

      // A URL that passed registration while its name pointed elsewhere, now pointing at loopback
      // (stored directly: what a rebinding DNS name amounts to at delivery time).
      const hook = await createWebhook(t.db, t.tenantId, { url: `http://127.0.0.1:${internal.port}/hook` }, { secrets: t.deps.secrets, maxPerTenant: 100 });
      const call = scim(t.app, t.scimToken, t.scimBase);
      assert.equal((await call('POST', '/Users', userBody('ssrf@example.com'))).status, 201);
      const d = await waitFor('a refused delivery attempt', async () => {
        const r = await admin(t.app, 'GET', `${base}/${hook.id}/deliveries`);
        const x = r.body.deliveries?.[0];
        return x && x.attempts >= 1 ? x : undefined;
      });
      assert.equal(d.lastError, TARGET_NOT_ALLOWED);
      assert.equal(d.lastStatus, null);
      assert.equal(internal.connections, 0, 'the internal server was never contacted');
      const all = await admin(t.app, 'GET', `${base}/${hook.id}/deliveries`);
      assert.ok(!JSON.stringify(all.body).includes(LEAK));
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
      await internal.stop();
    }
  });

  it('webhooks: an allowed receiver answering 500 is recorded as its status and a fixed reason, never its body', async () => {
    const internal = new Internal();
    await internal.start();
    const t = await startTestApp(kind, { ...FAST_WORKER, allowPrivateTargets: ['127.0.0.1/32'] });
    try {
      const base = `/tenants/${t.tenantId}/webhooks`;
      const hook = await admin(t.app, 'POST', base, { url: `http://127.0.0.1:${internal.port}/hook` });
      assert.equal(hook.status, 201);
      const call = scim(t.app, t.scimToken, t.scimBase);
      assert.equal((await call('POST', '/Users', userBody('leak@example.com'))).status, 201);
      const d = await waitFor('a failed delivery attempt', async () => {
        const r = await admin(t.app, 'GET', `${base}/${hook.body.id}/deliveries`);
        const x = r.body.deliveries?.[0];
        return x && x.attempts >= 1 ? x : undefined;
      });
      assert.ok(internal.requests >= 1, 'the allowed receiver was reached');
      assert.equal(d.lastStatus, 500);
      assert.equal(d.lastError, 'HTTP 500');
      const all = await admin(t.app, 'GET', `${base}/${hook.body.id}/deliveries`);
      assert.ok(!JSON.stringify(all.body).includes(LEAK));
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
      await internal.stop();
    }
  });
});
