/**
 * Tenant isolation: with tenant A's SCIM token, Basic credential, API key or IdP JWT — and through
 * A's admin URLs carrying B's ids — nothing of tenant B can be read or changed: by id, by filter,
 * by Bulk reference, by group member reference, by webhook redelivery. Every admin route of the
 * OpenAPI document is swept with B's ids in A's URLs. B's rows are snapshotted before and after.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { scimClient, USER, GROUP, PATCH } from '../scim/helpers.js';
import { apis } from '../idp-tokens/helpers/setup.js';
import { startTestOp, type TestOp } from '../idp-tokens/helpers/op.js';
import { captureLogs, diffSnapshots, tenantSnapshotter } from './helpers.js';
import { dispatchPending } from '../../src/events/dispatch.js';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

eachDatabase((kind) => {
  let t: TestApp;
  const logs = captureLogs();
  let B: Awaited<ReturnType<TestApp['newTenant']>>;
  let opA: TestOp;
  let opB: TestOp;
  let snapB: () => Promise<Record<string, string>>;
  let before0: Record<string, string>;
  const a: Record<string, string> = {};
  const b: Record<string, string> = {};
  let keyA = '';
  let keyB = '';
  let jwtA = '';
  let jwtB = '';
  let tried = 0;

  before(async () => {
    t = await startTestApp(kind, { logLevel: 'info', accessCacheTtlMs: 0, oidcJwksCooldownMs: 0, worker: false }, { loggerStream: logs.stream });
    const api = apis(t);
    B = await t.newTenant('tenant B');
    opA = await startTestOp();
    opB = await startTestOp();
    const seed = async (tenantId: string, scimBase: string, scimToken: string, ids: Record<string, string>, op: TestOp, tag: string) => {
      await api.ok('PUT', `/tenants/${tenantId}/oidc`, { provider: 'entra', issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: op.audience, clockToleranceSeconds: 0 });
      ids.webhookId = (await api.ok('POST', `/tenants/${tenantId}/webhooks`, { url: 'http://127.0.0.1:9/unreachable' })).id;
      const c = scimClient(t, scimBase, scimToken);
      const u = await c.createUser(`${tag}.user@example.com`, { externalId: `oid-${tag}`, displayName: `${tag} secret user` });
      ids.scimUserId = u.id;
      ids.scimUser2 = (await c.createUser(`${tag}.second@example.com`)).id;
      ids.groupId = (await c.createGroup(`${tag} Finance`, [u.id])).id;
      ids.datasetId = (await api.ok('POST', `/tenants/${tenantId}/datasets`, { name: `${tag}-ledger`, externalId: `${tag}-ext` })).id;
      ids.agId = (await api.ok('POST', `/tenants/${tenantId}/access-groups`, { name: `${tag} Finance` })).id;
      await api.ok('POST', `/tenants/${tenantId}/access-groups/${ids.agId}/datasets`, { datasetId: ids.datasetId });
      ids.userId = ids.identityId = (await api.ok('POST', `/tenants/${tenantId}/users`, { userName: `${tag}.manual@example.com` })).id;
      const key = await api.ok('POST', `/tenants/${tenantId}/users/${u.id}/api-keys`, { name: 'k' });
      ids.keyId = key.id;
      ids.tokenId = (await api.ok('POST', `/tenants/${tenantId}/scim-tokens`, { name: 'spare' })).id;
      await api.ok('PUT', `/tenants/${tenantId}/scim-basic`, { username: `${tag}-basic`, password: `${tag}-basic-password-0123456789` });
      op.user(tag, { oid: `oid-${tag}`, preferred_username: `${tag}.user@example.com` });
      // A webhook delivery to redeliver: the outbox fans the events out to the webhook.
      await dispatchPending(t.db);
      const d = await api.ok('GET', `/tenants/${tenantId}/webhooks/${ids.webhookId}/deliveries`);
      if (d.deliveries.length) { ids.eventId = d.deliveries[0].eventId; ids.hasDelivery = 'yes'; }
      ids.eventId ??= (await api.ok('GET', `/tenants/${tenantId}/events`)).events[0]?.id ?? '00000000-0000-4000-8000-000000000001';
      ids.tenantId = tenantId;
      return key.key as string;
    };
    keyA = await seed(t.tenantId, t.scimBase, t.scimToken, a, opA, 'alpha');
    keyB = await seed(B.tenantId, B.scimBase, B.scimToken, b, opB, 'bravo');
    jwtA = await opA.token('alpha');
    jwtB = await opB.token('bravo');
    const snap = await tenantSnapshotter(t.db);
    snapB = () => snap(B.tenantId);
    before0 = await snapB();
  });
  after(async () => {
    await t.close();
    await opA?.close();
    await opB?.close();
  });

  /** Everything of B that must never show up in an answer to A. */
  const secretsOfB = () => [B.tenantId, b.scimUserId!, b.scimUser2!, b.groupId!, b.datasetId!, b.agId!, b.userId!, b.keyId!, b.webhookId!, b.tokenId!,
    'bravo.user@example.com', 'bravo Finance', 'bravo-ledger', 'bravo-ext', 'bravo secret user', 'bravo-basic'];
  /** `sent`: what the request itself carried (an id echoed back in "User <id> not found" is no leak). */
  function assertNoLeak(label: string, body: string, sent = '') {
    for (const s of secretsOfB()) if (!sent.includes(s)) assert.ok(!body.includes(s), `${label} leaks ${s}: ${body.slice(0, 400)}`);
  }

  test('SCIM: A\'s token (and Basic credential) reads and writes nothing of B by id, on B\'s URL, or by filter', async () => {
    const A = scimClient(t, t.scimBase, t.scimToken);
    for (const [type, id] of [['Users', b.scimUserId], ['Groups', b.groupId], ['Users', b.userId]] as const) {
      for (const [method, body] of [['GET', undefined], ['PUT', type === 'Users' ? { schemas: [USER], userName: 'stolen@example.com' } : { schemas: [GROUP], displayName: 'stolen' }],
        ['PATCH', { schemas: [PATCH], Operations: [{ op: 'replace', path: type === 'Users' ? 'active' : 'displayName', value: type === 'Users' ? false : 'stolen' }] }], ['DELETE', undefined]] as const) {
        tried++;
        const r = await A.call(method, `/${type}/${id}`, body);
        assert.equal(r.status, 404, `${method} /${type}/{B id} → ${r.status} ${r.raw}`);
        assertNoLeak(`${method} /${type}/{B id}`, r.raw, `${id} ${JSON.stringify(body)}`);
      }
    }
    // A's credentials on B's base URL: 401, the same as for an unknown tenant.
    const basicA = `Basic ${Buffer.from('alpha-basic:alpha-basic-password-0123456789').toString('base64')}`;
    for (const auth of [`Bearer ${t.scimToken}`, basicA, `Bearer ${keyA}`, `Bearer ${jwtA}`]) {
      for (const path of ['/Users', `/Users/${b.scimUserId}`, '/Groups', '/ServiceProviderConfig', '/Schemas', '/ResourceTypes']) {
        tried++;
        const r = await t.app.inject({ method: 'GET', url: `${B.scimBase}${path}`, headers: { authorization: auth } });
        assert.equal(r.statusCode, 401, `${auth.slice(0, 12)} on B ${path} → ${r.statusCode}`);
      }
      tried++;
      const w = await t.app.inject({ method: 'POST', url: `${B.scimBase}/Users`, headers: { authorization: auth, 'content-type': 'application/scim+json' }, payload: JSON.stringify({ schemas: [USER], userName: 'planted@example.com' }) });
      assert.equal(w.statusCode, 401);
    }
    // Filters naming B's ids and values find nothing (and the Basic credential of A sees A only).
    const filters = [
      `id eq "${b.scimUserId}"`, 'userName eq "bravo.user@example.com"', 'userName sw "bravo"', 'externalId eq "oid-bravo"', `groups.value eq "${b.groupId}"`,
      'displayName co "bravo"', `id eq "${b.scimUserId}" or userName pr`, `emails[value co "bravo"]`,
    ];
    for (const f of filters) {
      for (const path of ['/Users', '/Groups']) {
        tried++;
        const r = await A.call('GET', `${path}?filter=${encodeURIComponent(f)}`);
        assert.ok(r.status === 200 || r.status === 400, `${path} ${f} → ${r.status}`);
        assertNoLeak(`${path}?filter=${f}`, r.raw, f);
      }
      tried++;
      const s = await A.call('POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: f });
      assertNoLeak(`/.search ${f}`, s.raw, f);
    }
    for (const f of [`members.value eq "${b.scimUserId}"`, `members[value eq "${b.scimUserId}"]`, `id eq "${b.groupId}"`, 'displayName eq "bravo Finance"']) {
      tried++;
      const r = await A.call('GET', `/Groups?filter=${encodeURIComponent(f)}`);
      assert.equal(r.body?.totalResults ?? 0, 0, `${f}: ${r.raw}`);
    }
    // Unfiltered lists hold A's resources only.
    for (const path of ['/Users?count=1000', '/Groups?count=1000']) {
      tried++;
      assertNoLeak(path, (await A.call('GET', path)).raw);
    }
  });

  test('SCIM: group member references to B\'s users are not stored, and B\'s groups are not reachable', async () => {
    const A = scimClient(t, t.scimBase, t.scimToken);
    tried++;
    const created = await A.call('POST', '/Groups', { schemas: [GROUP], displayName: 'alpha mixed', members: [{ value: a.scimUserId }, { value: b.scimUserId }, { value: b.groupId }] });
    assert.ok(created.status === 201 || created.status === 400 || created.status === 404, created.raw);
    assertNoLeak('POST /Groups with B members', created.raw, `${b.scimUserId} ${b.groupId}`);
    const gid = created.status === 201 ? created.body.id : a.groupId;
    for (const ops of [
      [{ op: 'add', path: 'members', value: [{ value: b.scimUserId }, { value: b.scimUser2 }] }],
      [{ op: 'Add', value: { members: [{ value: b.scimUserId }] } }],
      [{ op: 'replace', path: 'members', value: [{ value: b.scimUserId }] }],
      [{ op: 'remove', path: `members[value eq "${b.scimUserId}"]` }],
    ]) {
      tried++;
      const r = await A.patch(`/Groups/${gid}`, ops, { });
      assert.ok(r.status < 500, r.raw);
      assertNoLeak('PATCH members with B ids', r.raw, JSON.stringify(ops));
    }
    tried++;
    const put = await A.call('PUT', `/Groups/${gid}`, { schemas: [GROUP], displayName: 'alpha mixed', members: [{ value: b.scimUserId }] });
    assert.ok(put.status < 500);
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM scim_group_members WHERE tenant_id = $1 AND member_id = ANY($2::uuid[])', [t.tenantId, [b.scimUserId, b.scimUser2, b.groupId]],
    );
    assert.equal(rows[0]!.n, 0, 'a group of A holds a member id of B');
    // A's member listing of its own groups never renders B's users.
    tried++;
    assertNoLeak('GET A group', (await A.call('GET', `/Groups/${gid}`)).raw);
  });

  test('SCIM Bulk: B\'s ids and B\'s bulkIds resolve to nothing in A', async () => {
    // B runs a Bulk with bulkId "shared"; A then references "bulkId:shared" without defining it.
    const Bc = scimClient(t, B.scimBase, B.scimToken);
    const rb = await Bc.call('POST', '/Bulk', { schemas: [BULK], Operations: [{ method: 'POST', bulkId: 'shared', path: '/Users', data: { schemas: [USER], userName: 'bravo.bulk@example.com' } }] });
    assert.equal(rb.status, 200, rb.raw);
    const bBulkUser = rb.body.Operations[0].location.split('/').pop();
    before0 = await snapB();
    const A = scimClient(t, t.scimBase, t.scimToken);
    tried++;
    const r = await A.call('POST', '/Bulk', {
      schemas: [BULK], Operations: [
        { method: 'POST', bulkId: 'g', path: '/Groups', data: { schemas: [GROUP], displayName: 'alpha bulk', members: [{ value: 'bulkId:shared' }] } },
        { method: 'PATCH', path: '/Groups/bulkId:shared', data: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: a.scimUserId }] }] } },
        { method: 'PATCH', path: `/Groups/${b.groupId}`, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'stolen' }] } },
        { method: 'PUT', path: `/Users/${b.scimUserId}`, data: { schemas: [USER], userName: 'stolen@example.com' } },
        { method: 'DELETE', path: `/Users/${bBulkUser}` },
        { method: 'DELETE', path: `/Groups/${b.groupId}` },
        { method: 'POST', bulkId: 'm', path: '/Groups', data: { schemas: [GROUP], displayName: 'alpha bulk 2', members: [{ value: b.scimUserId }, { value: bBulkUser }] } },
      ],
    });
    assert.equal(r.status, 200, r.raw);
    const statuses = r.body.Operations.map((o: { status: string; method: string; bulkId?: string }) => `${o.method}${o.bulkId ? ` ${o.bulkId}` : ''} ${o.status}`);
    for (const o of r.body.Operations as Array<{ method: string; status: string; location?: string }>) {
      if (o.method !== 'POST') assert.ok(Number(o.status) >= 400, `Bulk op reached B: ${statuses.join(', ')}`);
    }
    assertNoLeak('Bulk', r.raw, `${b.groupId} ${b.scimUserId}`);
    const { rows } = await t.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM scim_group_members WHERE tenant_id = $1 AND member_id = ANY($2::uuid[])', [t.tenantId, [b.scimUserId, bBulkUser]],
    );
    assert.equal(rows[0]!.n, 0);
    assert.equal(diffSnapshots(before0, await snapB()), undefined, 'B changed through A\'s Bulk');
  });

  test('admin API: every route of the OpenAPI document, A\'s URL with B\'s ids, answers 4xx and changes nothing of B', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' })).json();
    const swept: string[] = [];
    before0 = await snapB();
    for (const [path, methods] of Object.entries<Record<string, unknown>>(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      if (!names.includes('tenantId') || names.length < 2) continue;
      for (const method of Object.keys(methods)) {
        // Each id of B in turn, the others A's own (so the only foreign piece is the one under test).
        for (const foreign of names.filter((n) => n !== 'tenantId')) {
          if (!b[foreign]) continue;
          const url = path.replace('/admin/v1', '').replace(/\{(\w+)\}/g, (_m, n: string) => (n === 'tenantId' ? t.tenantId : n === foreign ? b[n]! : (a[n] ?? b[n]!)));
          tried++;
          const payload = method === 'post' && /\/(datasets|members)$/.test(path) ? {} : ['post', 'put', 'patch'].includes(method) ? { name: 'x' } : undefined;
          const r = await t.app.inject({ method: method.toUpperCase() as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, ...(payload ? { payload } : {}) });
          assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${method.toUpperCase()} ${path} with B's ${foreign} → ${r.statusCode} ${r.body.slice(0, 300)}`);
          assertNoLeak(`${method} ${path}`, r.body, url);
          swept.push(`${method.toUpperCase()} ${path} [${foreign}]`);
        }
      }
    }
    // Body references: B's dataset, identity and ids in A's collections.
    const bodyRefs: Array<[string, string, unknown]> = [
      ['POST', `/tenants/${t.tenantId}/access-groups/${a.agId}/datasets`, { datasetId: b.datasetId }],
      ['POST', `/tenants/${t.tenantId}/access-groups/${a.agId}/members`, { identityId: b.userId }],
      ['POST', `/tenants/${t.tenantId}/access-groups/${a.agId}/members`, { identityId: b.scimUserId }],
    ];
    for (const [method, url, payload] of bodyRefs) {
      tried++;
      const r = await t.app.inject({ method: method as 'POST', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: payload as object });
      assert.ok(r.statusCode < 500, r.body);
      if (method === 'POST') assert.equal(r.statusCode, 404, `${url} ${JSON.stringify(payload)} → ${r.statusCode}`);
    }
    // Every GET collection of A: nothing of B in it.
    for (const [path, methods] of Object.entries<Record<string, unknown>>(doc.paths)) {
      if (!('get' in methods) || !path.includes('{tenantId}')) continue;
      const url = path.replace(/\{(\w+)\}/g, (_m, n: string) => a[n] ?? '00000000-0000-4000-8000-000000000000');
      tried++;
      const r = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.ok(r.statusCode < 500, `${url} → ${r.statusCode}`);
      // A's own provisioning log (and its health's latest error details) records the B ids A asked for; B's tenant and B-only names must not appear.
      assertNoLeak(`GET ${path}`, r.body, /\/provisioning-(log|health)$/.test(path) ? secretsOfB().filter((x) => x !== B.tenantId && x !== 'bravo secret user').join(' ') : '');
    }
    // A direct grant naming B's dataset (by id or externalId) resolves to nothing in A.
    const userA = `/admin/v1/tenants/${t.tenantId}/users/${a.userId}`;
    const h = { authorization: `Bearer ${t.adminToken}` };
    assert.equal((await t.app.inject({ method: 'PATCH', url: userA, headers: h, payload: { grants: [b.datasetId, 'bravo-ext'] } })).statusCode, 200);
    const detail = (await t.app.inject({ method: 'GET', url: userA, headers: h })).json();
    assert.ok(detail.grants.every((g: { datasetId: string | null }) => g.datasetId === null), JSON.stringify(detail.grants));
    assert.ok(!JSON.stringify(detail.datasets ?? []).includes(b.datasetId!), JSON.stringify(detail.datasets));
    assert.equal((await t.app.inject({ method: 'PATCH', url: userA, headers: h, payload: { grants: [] } })).statusCode, 200);
    assert.equal(b.hasDelivery, 'yes', 'B has a webhook delivery to try to redeliver');
    assert.ok(swept.some((s) => s.includes('redeliver')), `webhook redelivery swept: ${swept.join('\n')}`);
    assert.ok(swept.length >= 30, `swept ${swept.length} route/id pairs`);
    assert.equal(diffSnapshots(before0, await snapB()), undefined, 'B changed through A\'s admin URLs');
  });

  test('/v1: A\'s API key and JWT get nothing of B, and B\'s dataset is unknown to A', async () => {
    for (const token of [keyA, jwtA]) {
      for (const [method, path, payload] of [['GET', '/me', undefined], ['POST', '/authorize', { dataset: b.datasetId }], ['POST', '/authorize', { dataset: 'bravo-ledger' }]] as const) {
        tried++;
        const r = await t.app.inject({ method, url: `/v1/${B.tenantId}${path}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
        assert.equal(r.statusCode, 401, `${path} on B with A's ${token === keyA ? 'API key' : 'JWT'} → ${r.statusCode} ${r.body}`);
        assertNoLeak(`/v1 ${path}`, r.body);
      }
      for (const dataset of [b.datasetId!, 'bravo-ledger', 'bravo-ext']) {
        tried++;
        const r = await t.app.inject({ method: 'POST', url: `/v1/${t.tenantId}/authorize`, headers: { authorization: `Bearer ${token}` }, payload: { dataset } });
        assert.equal(r.statusCode, 200, r.body);
        assert.equal(r.json().allowed, false);
        assert.equal(r.json().reason, 'dataset_not_found', r.body);
      }
      tried++;
      const me = await t.app.inject({ method: 'GET', url: `/v1/${t.tenantId}/me`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.statusCode, 200, me.body);
      assertNoLeak('/v1 me', me.body);
    }
    // And the other way round.
    for (const token of [keyB, jwtB]) {
      tried++;
      const r = await t.app.inject({ method: 'GET', url: `/v1/${t.tenantId}/me`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.statusCode, 401);
    }
  });

  test('B is unchanged, B\'s credentials still work, nothing logged at level error', async (tt) => {
    assert.equal(diffSnapshots(before0, await snapB()), undefined);
    const r = await t.app.inject({ method: 'GET', url: `${B.scimBase}/Users/${b.scimUserId}`, headers: { authorization: `Bearer ${B.scimToken}` } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(logs.errors(), []);
    tt.diagnostic(`[${kind}] isolation: ${tried} cross-tenant requests`);
    console.log(`# [${kind}] isolation: ${tried} cross-tenant requests, all refused`);
  });
});
