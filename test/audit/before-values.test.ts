// The `before` values of audited PATCH and PUT routes come from their own write (catalogue
// `before: 'route'`): concurrent writes of one resource each record what they replaced, and a
// write validated against the stored row sees the row it changes. Both databases; the races are
// real on PostgreSQL only (PGlite runs one statement at a time).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, operatorCalls, type EntryView } from './helpers.js';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { AUDIT_RULES } from '../../src/audit/catalogue.js';

test('before values: every audited PATCH and PUT takes its `before` from its own write (no read through its GET first)', () => {
  const reading = Object.entries(AUDIT_RULES)
    .filter(([key, rule]) => /^(PATCH|PUT) /.test(key) && rule.action !== null && rule.before !== 'route')
    .map(([key]) => key);
  assert.deepEqual(reading, []);
});

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });
  const { admin, call, log } = operatorCalls(() => t);
  const created = async (method: string, url: string, payload: unknown, status = 201) => {
    const r = await call(method, url, payload);
    assert.equal(r.statusCode, status, r.body);
    return r.body ? r.json() : undefined;
  };
  const newIdentity = async (tenantId: string) =>
    (await created('POST', `/admin/v1/tenants/${tenantId}/users`, { userName: `raced.${Math.random().toString(36).slice(2)}@partner.example` })).id as string;

  interface Raced {
    name: string;
    action: string;
    method: 'PATCH' | 'PUT';
    /** The field followed through the chain; value(0) is what make() stores, write i sets value(i). */
    field: string;
    value: (i: number) => unknown;
    /** The body of write i (default: the field alone). */
    body?: (i: number) => object;
    /** The resource's URL, with value(0) stored. */
    make: (tenantId: string) => Promise<string>;
    /** The field's stored value now (default: the URL's GET). */
    current?: (url: string) => Promise<unknown>;
    /**
     * The route's entry is written after its change, in a transaction of its own (catalogue
     * `transactional: false`): the chain's order is not the writes' order, so the entries' before →
     * after pairs must form one path from value(0) instead.
     */
    unordered?: true;
  }

  // Each creates its resource with `field` at value(0), and the writes set value(1) … value(n).
  // Where the field has only two or three values, writes in a row may set the same one: their entry
  // leaves the unchanged field out, and the others must still link up.
  const alternating = <A, B>(a: A, b: B) => (i: number) => (i % 2 === 0 ? a : b);
  const raced: Raced[] = [
    {
      name: 'PATCH …/datasets/{id}', action: 'dataset.updated', field: 'description', value: (i) => `v${i}`, method: 'PATCH',
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/datasets/${(await created('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'raced', description: 'v0' })).id}`,
    },
    {
      name: 'PATCH …/access-groups/{id}', action: 'access_group.updated', field: 'description', value: (i) => `v${i}`, method: 'PATCH',
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/access-groups/${(await created('POST', `/admin/v1/tenants/${tenantId}/access-groups`, { name: 'raced', description: 'v0' })).id}`,
    },
    {
      name: 'PATCH …/webhooks/{id}', action: 'webhook.updated', field: 'url', value: (i) => `https://hooks.example.com/v${i}`, method: 'PATCH',
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/webhooks/${(await created('POST', `/admin/v1/tenants/${tenantId}/webhooks`, { url: 'https://hooks.example.com/v0' })).id}`,
    },
    {
      name: 'PATCH …/users/{id}/api-keys/{id}', action: 'api_key.updated', field: 'name', value: (i) => `key v${i}`, method: 'PATCH',
      make: async (tenantId) => {
        const base = `/admin/v1/tenants/${tenantId}/users/${await newIdentity(tenantId)}/api-keys`;
        return `${base}/${(await created('POST', base, { name: 'key v0' })).id}`;
      },
    },
    {
      name: 'PATCH …/users/{id}', action: 'identity.updated', field: 'displayName', value: (i) => `Guest v${i}`, method: 'PATCH',
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/users/${(await created('POST', `/admin/v1/tenants/${tenantId}/users`, { userName: 'raced.user@partner.example', displayName: 'Guest v0' })).id}`,
    },
    {
      name: 'PUT …/settings', action: 'settings.updated', field: 'logRetentionDays', value: (i) => 100 + i, method: 'PUT',
      make: async (tenantId) => {
        await created('PUT', `/admin/v1/tenants/${tenantId}/settings`, { logRetentionDays: 100 }, 200);
        return `/admin/v1/tenants/${tenantId}/settings`;
      },
    },
    {
      name: 'PUT …/oidc', action: 'oidc.configured', field: 'groupsClaim', value: (i) => `groups_v${i}`, method: 'PUT',
      body: (i) => ({ issuer: 'https://idp.example.com', audience: 'api://raced', groupsClaim: `groups_v${i}` }),
      make: async (tenantId) => {
        await created('PUT', `/admin/v1/tenants/${tenantId}/oidc`, { issuer: 'https://idp.example.com', audience: 'api://raced', groupsClaim: 'groups_v0' }, 200);
        return `/admin/v1/tenants/${tenantId}/oidc`;
      },
    },
    {
      name: 'PATCH …/connections/{id}', action: 'connection.updated', field: 'name', value: (i) => `SAML v${i}`, method: 'PATCH', unordered: true,
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/connections/${(await created('POST', `/admin/v1/tenants/${tenantId}/connections`, { type: 'saml', name: 'SAML v0' })).id}`,
    },
    {
      name: 'PATCH …/console-accounts/{id}', action: 'console_account.updated', field: 'displayName', value: (i) => `Admin v${i}`, method: 'PATCH',
      make: async (tenantId) => {
        const login = `raced-${Math.random().toString(36).slice(2)}@partner.example`;
        const a = await created('POST', `/admin/v1/tenants/${tenantId}/console-accounts`, { login, password: 'a-long-console-password-0', displayName: 'Admin v0' });
        return `/admin/v1/tenants/${tenantId}/console-accounts/${a.id}`;
      },
      // No GET of one account: the list has it.
      current: async (url) => {
        const r = await call('GET', url.slice(0, url.lastIndexOf('/')));
        return r.json().accounts.find((a: { id: string }) => url.endsWith(a.id)).displayName;
      },
    },
    {
      name: 'PUT …/users/{id}/provisioning', action: 'identity.provisioning_set', field: 'newUserStatus', value: alternating('active', 'staged'), method: 'PUT',
      body: (i) => ({ newUserStatus: alternating('active', 'staged')(i), automaticInvitation: null }),
      make: async (tenantId) => {
        const url = `/admin/v1/tenants/${tenantId}/users/${await newIdentity(tenantId)}/provisioning`;
        await created('PUT', url, { newUserStatus: 'active', automaticInvitation: null }, 200);
        return url;
      },
    },
    {
      // No overrides row yet: the first writes create it (under the identity's lock).
      name: 'PUT …/users/{id}/provisioning, first set', action: 'identity.provisioning_set', field: 'newUserStatus', method: 'PUT',
      value: (i) => (i === 0 ? null : alternating('active', 'staged')(i)),
      body: (i) => ({ newUserStatus: alternating('active', 'staged')(i), automaticInvitation: null }),
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/users/${await newIdentity(tenantId)}/provisioning`,
    },
    {
      name: 'PUT …/access-groups/{id}/provisioning', action: 'access_group.provisioning_set', field: 'automaticInvitation', value: alternating(false, true), method: 'PUT',
      body: (i) => ({ newUserStatus: null, automaticInvitation: alternating(false, true)(i) }),
      make: async (tenantId) => {
        const ag = await created('POST', `/admin/v1/tenants/${tenantId}/access-groups`, { name: 'raced' });
        const url = `/admin/v1/tenants/${tenantId}/access-groups/${ag.id}/provisioning`;
        await created('PUT', url, { newUserStatus: null, automaticInvitation: false }, 200);
        return url;
      },
    },
    {
      // No login-method row yet: the first writes create it (under the identity's lock).
      name: 'PUT …/users/{id}/login-method', action: 'identity.login_method_set', field: 'method', value: alternating('idp', 'password'), method: 'PUT',
      body: (i) => (i % 2 === 0 ? { method: 'idp' } : { method: 'password', password: 'a-long-guest-password-0' }),
      make: async (tenantId) => `/admin/v1/tenants/${tenantId}/users/${await newIdentity(tenantId)}/login-method`,
    },
    {
      name: 'PUT …/scim-basic', action: 'scim_basic.set', field: 'username', value: (i) => `idp-v${i}`, method: 'PUT',
      body: (i) => ({ username: `idp-v${i}`, password: 'a-long-basic-password-0' }),
      make: async (tenantId) => {
        await created('PUT', `/admin/v1/tenants/${tenantId}/scim-basic`, { username: 'idp-v0', password: 'a-long-basic-password-0' }, 204);
        return `/admin/v1/tenants/${tenantId}/scim-basic`;
      },
    },
  ];
  for (const route of raced) {
    test(`audit: concurrent writes of one resource each record the values they replaced (the chain links them in order): ${route.name}`, async () => {
      const { tenantId } = await t.newTenant('Racing');
      const url = await route.make(tenantId);
      const n = 12;
      const body = route.body ?? ((i: number) => ({ [route.field]: route.value(i) }));
      const writes = await Promise.all(Array.from({ length: n }, (_, i) => call(route.method, url, body(i + 1))));
      assert.deepEqual(writes.map((w) => w.statusCode < 300), Array(n).fill(true), writes.map((w) => w.body).join('\n'));
      // The last n: setting up the resource may have recorded one before them.
      const entries = (await log(tenantId, `?action=${route.action}`)).sort((a, b) => a.sequence - b.sequence).slice(-n);
      assert.equal(entries.length, n);
      const distinct = new Set(Array.from({ length: n + 1 }, (_, i) => JSON.stringify(route.value(i)))).size === n + 1;
      // Each write's `before` is the value the write before it (in chain order) set: none saw a stale value.
      let current = route.value(0);
      let changes = 0;
      if (route.unordered) {
        // Each step takes the one entry that replaced the value the path has reached.
        const left = entries.map((e) => e.changes[route.field] as { before: unknown; after: unknown });
        while (left.length > 0) {
          const i = left.findIndex((c) => JSON.stringify(c?.before) === JSON.stringify(current));
          assert.ok(i >= 0, `no entry replaced ${JSON.stringify(current)}: ${JSON.stringify(left)}`);
          current = left.splice(i, 1)[0]!.after;
        }
        entries.length = 0;
      }
      for (const e of entries) {
        const change = e.changes[route.field] as { before: unknown; after: unknown } | undefined;
        if (!change && !distinct) continue; // set the value it already had
        assert.deepEqual(change?.before, current, JSON.stringify(entries.map((x) => x.changes)));
        current = change!.after;
        changes++;
      }
      if (!distinct) assert.ok(changes > 0, 'some write changed the value');
      const now = route.current ? await route.current(url) : (await call('GET', url)).json()[route.field];
      assert.deepEqual(now, current);
    });
  }

  // The settings a PUT merges into are validated before they are stored; a concurrent change of the
  // fields they are checked against must not slip in between (PostgreSQL: PGlite has one connection).
  test('settings: a PUT validates against the row it writes (a concurrent clashing change is refused, not stored)', { skip: kind !== 'postgres' && 'needs a second connection' }, async () => {
    const { tenantId } = await t.newTenant('Validated');
    const schema = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
    const clashing = { grantsAttribute: `${schema}:grants` };
    const attribute = { extensionAttributes: [{ schema, name: 'grants', type: 'string', multiValued: false }] };
    // Together they clash (an extension attribute where the grants attribute is built in).
    const both = await call('PUT', `/admin/v1/tenants/${tenantId}/settings`, { ...clashing, ...attribute });
    assert.equal(both.statusCode, 400, both.body);
    // A concurrent writer stores the attribute and holds the row while the PUT of the grants attribute arrives.
    let put: ReturnType<typeof call> | undefined;
    await t.db.transaction(async (tx) => {
      await tx.query('UPDATE tenants SET settings = settings || $2::jsonb WHERE tenant_id = $1', [tenantId, JSON.stringify(attribute)]);
      put = call('PUT', `/admin/v1/tenants/${tenantId}/settings`, clashing);
      // The PUT waits on the row lock (before validating it, with the change; after, without it).
      await eventually(async () => {
        const { rows } = await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%tenants%'`);
        return rows[0]!.n > 0 ? true : undefined;
      }, 10_000);
    });
    const r = await put!;
    assert.equal(r.statusCode, 400, `the PUT saw the attribute committed before it: ${r.body}`);
    const stored = (await call('GET', `/admin/v1/tenants/${tenantId}/settings`)).json();
    assert.notEqual(stored.grantsAttribute, clashing.grantsAttribute);
    assert.deepEqual(stored.extensionAttributes.map((a: { name: string }) => a.name), ['grants']);
  });
});
