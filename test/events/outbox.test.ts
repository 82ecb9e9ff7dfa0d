/**
 * Outbox: every SCIM write records its events in its own transaction; a refused or failed write
 * records nothing.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eachDatabase, openTestDatabase, startTestApp, testConfig } from '../helpers/app.js';
import { buildApp } from '../../src/app.js';
import { admin, allEvents, scim, userBody } from './helpers.js';

eachDatabase((kind) => {
  it('SCIM writes record user, group and membership events in order', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const call = scim(t.app, t.scimToken, t.scimBase);
      const u = await call('POST', '/Users', userBody('ada@example.com', { password: 'S3cret!pass', emails: [{ value: 'ada@example.com', primary: true }] }));
      assert.equal(u.status, 201);
      const id = u.body.id as string;
      // no-op PUT (Okta does this): no event
      assert.equal((await call('PUT', `/Users/${id}`, userBody('ada@example.com', { emails: [{ value: 'ada@example.com', primary: true }] }))).status, 200);
      const ok = (s: number) => assert.ok(s === 200 || s === 204, `status ${s}`);
      ok((await call('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'displayName', value: 'Ada' }] })).status);
      ok((await call('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).status);
      ok((await call('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: true } }] })).status);
      const g = await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: id }] });
      assert.equal(g.status, 201);
      const gid = g.body.id as string;
      assert.equal((await call('PATCH', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'displayName', value: 'Eng' }] })).status, 204);
      assert.equal((await call('PATCH', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Remove', path: `members[value eq "${id}"]` }] })).status, 204);
      assert.equal((await call('DELETE', `/Groups/${gid}`)).status, 204);
      assert.equal((await call('DELETE', `/Users/${id}`)).status, 204);

      const events = await allEvents(t.app, t.tenantId);
      assert.deepEqual(events.map((e) => e.type), [
        'user.created', 'user.updated', 'user.suspended', 'user.reactivated',
        'group.created', 'group.members_added', 'group.renamed', 'group.members_removed', 'group.deleted', 'user.deleted',
      ]);
      const seqs = events.map((e) => e.sequence);
      assert.deepEqual([...seqs].sort((a, b) => a - b), seqs);
      assert.equal(new Set(events.map((e) => e.id)).size, events.length);
      assert.equal(events[0]!.data.user.id, id);
      assert.ok(!JSON.stringify(events).includes('S3cret!pass'), 'no password in any event');
      assert.deepEqual(events[1]!.data.changed, ['displayName']);
      assert.equal(events[6]!.data.previousDisplayName, 'Engineering');
      assert.deepEqual(events[5]!.data.memberIds, [id]);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });

  it('member PATCH: one event per change with the member ids, the version moves; add+remove in one request keeps order', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const call = scim(t.app, t.scimToken, t.scimBase);
      const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
      const a = (await call('POST', '/Users', userBody('a@example.com'))).body.id as string;
      const b = (await call('POST', '/Users', userBody('b@example.com'))).body.id as string;
      const g = await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ops' });
      const gid = g.body.id as string;
      const add = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }] });
      assert.equal(add.status, 204);
      assert.notEqual(add.headers.etag, g.headers.etag, 'a member change moves the version');
      const again = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: a }] }] });
      assert.equal(again.headers.etag, add.headers.etag, 'adding a present member changes nothing');
      const both = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [
        { op: 'Remove', path: 'members', value: [{ value: a }] },
        { op: 'Add', path: 'members', value: [{ value: randomUUID() }] }, // unknown: skipped
      ] });
      assert.equal(both.status, 204);
      const mixed = await call('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [
        { op: 'Add', path: 'members', value: [{ value: a }] },
        { op: 'Remove', path: 'members', value: [{ value: b }] },
      ] });
      assert.equal(mixed.status, 204);
      const events = (await allEvents(t.app, t.tenantId)).filter((e) => e.type.startsWith('group.members'));
      assert.deepEqual(events.map((e) => [e.type, [...e.data.memberIds].sort()]), [
        ['group.members_added', [a, b].sort()],
        ['group.members_removed', [a]],
        ['group.members_added', [a]],
        ['group.members_removed', [b]],
      ]);
      const seqs = events.map((e) => e.sequence);
      assert.deepEqual([...seqs].sort((x, y) => x - y), seqs);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });

  it('a refused write (409, 412, 404) records no event', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const call = scim(t.app, t.scimToken, t.scimBase);
      const u = await call('POST', '/Users', userBody('bob@example.com'));
      assert.equal(u.status, 201);
      assert.equal((await call('POST', '/Users', userBody('BOB@example.com'))).status, 409);
      assert.equal((await call('PATCH', `/Users/${u.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'displayName', value: 'x' }] }, { 'if-match': 'W/"999"' })).status, 412);
      assert.equal((await call('DELETE', `/Users/${randomUUID()}`)).status, 404);
      const g = await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales' });
      assert.equal((await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'sales' })).status, 409);
      assert.equal(g.status, 201);
      const events = await allEvents(t.app, t.tenantId);
      assert.deepEqual(events.map((e) => e.type), ['user.created', 'group.created']);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });

  it('an event is rolled back with its transaction when a later step fails', async () => {
    const db = await openTestDatabase(kind);
    const failing = { async userCreated() { throw new Error('boom after the outbox insert'); } };
    const { app } = await buildApp({ config: testConfig({ worker: false }), db, logger: false, skipMigrations: true, observers: [failing] });
    await app.ready();
    try {
      const tn = await admin(app, 'POST', '/tenants', { name: 'rollback' });
      const tenantId = tn.body.id as string;
      const tok = await admin(app, 'POST', `/tenants/${tenantId}/scim-tokens`, { name: 't' });
      const call = scim(app, tok.body.token as string, `/scim/v2/${tenantId}`);
      const r = await call('POST', '/Users', userBody('carol@example.com'));
      assert.equal(r.status, 500);
      assert.deepEqual(await allEvents(app, tenantId), []);
      const users = await db.query('SELECT 1 FROM scim_users WHERE tenant_id = $1', [tenantId]);
      assert.equal(users.rowCount, 0);
      await admin(app, 'DELETE', `/tenants/${tenantId}`);
    } finally {
      await app.close();
      if (kind === 'postgres') await db.close();
    }
  });

  it('a manual identity adopted by SCIM emits identity.adopted, not user.created', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      await t.db.query(
        `INSERT INTO scim_users (tenant_id, id, user_name, data, source) VALUES ($1, $2, 'dora@example.com', '{"userName":"dora@example.com"}', 'manual')`,
        [t.tenantId, randomUUID()],
      );
      const call = scim(t.app, t.scimToken, t.scimBase);
      assert.equal((await call('POST', '/Users', userBody('dora@example.com'))).status, 201);
      const events = await allEvents(t.app, t.tenantId);
      assert.deepEqual(events.map((e) => e.type), ['identity.adopted']);
      assert.equal(events[0]!.data.user.source, 'scim');
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });
});
