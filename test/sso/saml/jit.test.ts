// JIT provisioning with groups, against the samlify test IdP over HTTP: the assertion's group
// attribute (Entra's claim name, Okta's `groups`, or one configured per connection) creates directory
// groups and makes the user's memberships equal to it, so an access group linked by name grants
// its datasets exactly as after a SCIM sync; every JIT write records the same outbox events and
// access changes as the SCIM write it stands for, and a provisioning-log row.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { eachDatabase, type TestApp } from '../../helpers/app.js';
import type { apis } from '../../idp-tokens/helpers/setup.js';
import { SamlFixture, type SamlConnectionView } from './helpers/fixture.js';

const ENTRA_GROUPS = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups';

type Claims = { sub: string; groups: { displayName: string }[]; accessGroups: { name: string }[]; datasets: { name: string }[] };

eachDatabase((kind) => {
  const f = new SamlFixture(kind);
  const { signIn } = f;
  let t: TestApp;
  let api: ReturnType<typeof apis>;
  let conn: SamlConnectionView;

  const claimsOf = (q: URLSearchParams) => {
    assert.ok(q.get('token'), q.get('error_description') ?? 'no token');
    return decodeJwt(q.get('token')!) as unknown as Claims;
  };
  const eventsSince = async (seq: number) => (await t.db.query<{ seq: string; type: string; data: Record<string, unknown> }>(
    'SELECT seq, type, data FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq', [t.tenantId, seq])).rows;
  const lastSeq = async () => Number((await t.db.query<{ s: string | null }>('SELECT max(seq)::text AS s FROM events WHERE tenant_id = $1', [t.tenantId])).rows[0]!.s ?? 0);
  const changesSince = async (seq: number) => (await t.db.query<{ cause: { type: string } }>(
    'SELECT cause FROM access_changes WHERE tenant_id = $1 AND seq > $2 ORDER BY seq', [t.tenantId, seq])).rows.map((r) => r.cause.type);
  const lastChange = async () => Number((await t.db.query<{ s: string | null }>('SELECT max(seq)::text AS s FROM access_changes WHERE tenant_id = $1', [t.tenantId])).rows[0]!.s ?? 0);
  const memberNames = async (userId: string) => (await t.db.query<{ display_name: string }>(
    `SELECT g.display_name FROM scim_group_members m JOIN scim_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
      WHERE m.tenant_id = $1 AND m.member_id = $2 ORDER BY 1`, [t.tenantId, userId])).rows.map((r) => r.display_name);

  before(async () => {
    await f.start();
    ({ t, api, conn } = f);
    const ds = f.S.datasets.repo!; // seeded by the fixture
    const ag = await api.ok('POST', `/tenants/${t.tenantId}/access-groups`, { name: 'Engineering' });
    await api.ok('POST', `/tenants/${t.tenantId}/access-groups/${ag.id}/datasets`, { datasetId: ds.id });
    await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { jitProvisioning: true });
  });

  after(() => f.close());

  test('first sign-in: identity, groups and memberships created; the access group linked by name grants its dataset', async () => {
    const [seq, change] = [await lastSeq(), await lastChange()];
    const c = claimsOf(await signIn({ nameId: 'newbie@acme.example', attributes: { displayName: 'New Bie', [ENTRA_GROUPS]: ['Engineering', 'All Staff'] } }));
    assert.deepEqual(c.groups.map((g) => g.displayName).sort(), ['All Staff', 'Engineering']);
    assert.deepEqual(c.accessGroups.map((a) => a.name), ['Engineering']);
    assert.deepEqual(c.datasets.map((d) => d.name), ['repo']);
    const ev = await eventsSince(seq);
    const types = ev.map((e) => e.type);
    assert.equal(types.filter((x) => x === 'user.created').length, 1, types.join());
    assert.equal(types.filter((x) => x === 'group.created').length, 2, types.join());
    assert.equal(types.filter((x) => x === 'group.members_added').length, 2, types.join());
    const created = ev.find((e) => e.type === 'user.created')!.data.user as { id: string; userName: string; source: string };
    assert.equal(created.id, c.sub);
    assert.equal(created.userName, 'newbie@acme.example');
    assert.equal(created.source, 'manual');
    assert.ok(ev.filter((e) => e.type === 'group.members_added').every((e) => (e.data.memberIds as string[]).includes(c.sub)));
    // The access model records the membership changes: the worker announces access.granted from them.
    assert.equal((await changesSince(change)).filter((x) => x === 'group.members_changed').length, 2);

    await t.deps.provisioningLog.flush();
    const log = (await t.db.query<{ operation: string; resource_type: string; resource_id: string; idp: string; outcome: string }>(
      `SELECT operation, resource_type, resource_id, idp, outcome FROM provisioning_log WHERE tenant_id = $1 AND idp = 'saml-jit' ORDER BY id`, [t.tenantId])).rows;
    // One batch, one timestamp: the rows' order within it is not the writes' order.
    assert.deepEqual(log.map((l) => `${l.operation} ${l.resource_type}`).sort(), ['create Group', 'create Group', 'create User', 'patch Group', 'patch Group']);
    assert.equal(log.find((l) => l.resource_type === 'User')!.resource_id, c.sub);
    assert.ok(log.every((l) => l.outcome === 'success'));
  });

  test('a later sign-in updates the identity and makes the memberships equal to the assertion\'s groups (Okta\'s `groups`)', async () => {
    const id = (await api.ok('GET', `/tenants/${t.tenantId}/users?userName=${encodeURIComponent('newbie@acme.example')}`)).users[0].id as string;
    const [seq, change] = [await lastSeq(), await lastChange()];
    const c = claimsOf(await signIn({ nameId: 'newbie@acme.example', attributes: { displayName: 'Newbie Renamed', groups: ['All Staff', 'Sales'] } }));
    assert.equal(c.sub, id);
    assert.deepEqual(await memberNames(id), ['All Staff', 'Sales']);
    assert.deepEqual(c.datasets, [], 'leaving Engineering revokes repo');
    const types = (await eventsSince(seq)).map((e) => e.type);
    assert.deepEqual(types.filter((x) => x.startsWith('user.')), ['user.updated']);
    assert.ok(types.includes('group.created') && types.includes('group.members_added') && types.includes('group.members_removed'), types.join());
    assert.ok((await changesSince(change)).includes('group.members_changed'));
    const detail = await api.ok('GET', `/tenants/${t.tenantId}/users/${id}`);
    assert.equal(detail.displayName, 'Newbie Renamed');
    assert.equal(detail.source, 'manual', 'a JIT write keeps the identity JIT-managed (never adopted into SCIM)');

    // The same assertion again: nothing to write, nothing announced.
    const again = await lastSeq();
    claimsOf(await signIn({ nameId: 'newbie@acme.example', attributes: { displayName: 'Newbie Renamed', groups: ['All Staff', 'Sales'] } }));
    assert.deepEqual(await eventsSince(again), []);
  });

  test('a configured group attribute; when it is absent the user is in no group. Without a configured one, no groups attribute leaves memberships alone', async () => {
    const id = (await api.ok('GET', `/tenants/${t.tenantId}/users?userName=${encodeURIComponent('newbie@acme.example')}`)).users[0].id as string;
    claimsOf(await signIn({ nameId: 'newbie@acme.example', attributes: { displayName: 'Newbie Renamed' } }));
    assert.deepEqual(await memberNames(id), ['All Staff', 'Sales'], 'no group attribute sent: memberships untouched');
    await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { jitGroupsAttribute: 'memberOf' });
    try {
      const c = claimsOf(await signIn({ nameId: 'newbie@acme.example', attributes: { memberOf: 'Engineering', groups: ['Sales'] } }));
      assert.deepEqual(await memberNames(id), ['Engineering']);
      assert.deepEqual(c.datasets.map((d) => d.name), ['repo']);
      claimsOf(await signIn({ nameId: 'newbie@acme.example', attributes: { groups: ['Sales'] } }));
      assert.deepEqual(await memberNames(id), [], 'the configured attribute is absent: no groups');
    } finally {
      await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { jitGroupsAttribute: null });
    }
  });

  test('SCIM-provisioned identities keep their memberships whatever the assertion says', async () => {
    const alice = f.S.users.alice!;
    const before = await memberNames(alice);
    const seq = await lastSeq();
    claimsOf(await signIn({ nameId: 'alice@acme.example', attributes: { groups: ['Engineering', 'Admins'] } }));
    assert.deepEqual(await memberNames(alice), before);
    assert.deepEqual(await eventsSince(seq), []);
    const admins = await t.db.query('SELECT 1 FROM scim_groups WHERE tenant_id = $1 AND display_name = $2', [t.tenantId, 'Admins']);
    assert.equal(admins.rows.length, 0);
  });

  test('off again: an unknown user is refused and nothing is created', async () => {
    await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${conn.id}`, { jitProvisioning: false });
    const seq = await lastSeq();
    const q = await signIn({ nameId: 'late@acme.example', attributes: { groups: ['Late Group'] } });
    assert.equal(q.get('error_code'), 'identity_not_found');
    assert.deepEqual(await eventsSince(seq), []);
  });
});
