/**
 * Per-identity and per-access-group overrides of the provisioning defaults (seed 002): the admin
 * API, the precedence rule (identity > access groups > tenant; cautious value when groups
 * disagree), and what SCIM creates do with them — status of the identity and the activation
 * e-mail, received by a real SMTP sink.
 */
import { it, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { FAST_WORKER, waitFor } from '../events/helpers.js';
import { SmtpSink } from '../events/smtp.js';
import { admin, CORE, freshTenant, GROUP, PATCH_OP, scim, type Tenant } from './helpers.js';
import { resolveProvisioning } from '../../src/access/provisioning-overrides.js';

test('precedence: identity > access groups > tenant, and the cautious value when groups disagree', () => {
  const tenant = { newUserStatus: 'active' as const, automaticInvitation: true };
  const none = { anyStaged: false, anyActive: false, anyInvite: false, anyNoInvite: false };
  assert.deepEqual(resolveProvisioning(tenant), { newUserStatus: 'active', automaticInvitation: true, statusOverridden: false, invitationOverridden: false });
  const groups = { anyStaged: true, anyActive: true, anyInvite: true, anyNoInvite: true };
  assert.deepEqual(resolveProvisioning(tenant, { newUserStatus: null, automaticInvitation: null }, groups),
    { newUserStatus: 'staged', automaticInvitation: false, statusOverridden: true, invitationOverridden: true });
  assert.deepEqual(resolveProvisioning(tenant, { newUserStatus: 'active', automaticInvitation: true }, groups),
    { newUserStatus: 'active', automaticInvitation: true, statusOverridden: true, invitationOverridden: true });
  // each field on its own: the identity decides one, a group the other
  assert.deepEqual(resolveProvisioning({ newUserStatus: 'staged', automaticInvitation: false }, { newUserStatus: null, automaticInvitation: true }, { ...none, anyActive: true }),
    { newUserStatus: 'active', automaticInvitation: true, statusOverridden: true, invitationOverridden: true });
});

const user = (userName: string, email = userName) => ({ schemas: [CORE], userName, emails: [{ value: email, primary: true }] });
/** Mail addresses of one run: a worker sends every due invitation of its database, so leftovers of an aborted run must not count. */
const runDomain = () => `${randomUUID().slice(0, 8)}.example.com`;
const mailsTo = (smtp: SmtpSink, d: string) => smtp.mails.map((m) => m.to.join()).filter((to) => to.endsWith(`@${d}>`));

async function statusOf(tn: Tenant, id: string): Promise<string> {
  return (await admin(tn, 'GET', `/users/${id}`, undefined, 200)).body.status;
}

eachDatabase((kind) => {
  it('admin API: read, set and clear overrides on identities and access groups; bad input is 400, unknown ones 404', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const tn = await freshTenant(t);
      const other = await freshTenant(t);
      const ident = (await admin(tn, 'POST', '/users', { userName: 'pre@example.com' }, 201)).body.id;
      const ag = (await admin(tn, 'POST', '/access-groups', { name: 'Sales' }, 201)).body.id;
      for (const path of [`/users/${ident}/provisioning`, `/access-groups/${ag}/provisioning`]) {
        assert.deepEqual((await admin(tn, 'GET', path, undefined, 200)).body, { newUserStatus: null, automaticInvitation: null });
        assert.deepEqual((await admin(tn, 'PUT', path, { newUserStatus: 'staged', automaticInvitation: false }, 200)).body,
          { newUserStatus: 'staged', automaticInvitation: false });
        assert.deepEqual((await admin(tn, 'GET', path, undefined, 200)).body, { newUserStatus: 'staged', automaticInvitation: false });
        for (const bad of [{ newUserStatus: 'suspended', automaticInvitation: null }, { newUserStatus: 'staged' }, { newUserStatus: null, automaticInvitation: 'yes' },
          { newUserStatus: null, automaticInvitation: null, extra: 1 }]) {
          const r = await admin(tn, 'PUT', path, bad, 400);
          assert.equal(r.body.code, 'ERR_VALIDATION', JSON.stringify(r.body));
        }
        assert.deepEqual((await admin(tn, 'GET', path, undefined, 200)).body, { newUserStatus: 'staged', automaticInvitation: false }, 'nothing written by a refused call');
        // another tenant sees neither
        assert.equal((await admin(other, 'GET', path, undefined)).status, 404);
        assert.equal((await admin(other, 'PUT', path, { newUserStatus: null, automaticInvitation: null })).status, 404);
        assert.deepEqual((await admin(tn, 'PUT', path, { newUserStatus: null, automaticInvitation: true }, 200)).body, { newUserStatus: null, automaticInvitation: true });
      }
      assert.equal((await admin(tn, 'GET', '/users/00000000-0000-4000-8000-000000000000/provisioning')).status, 404);
      assert.equal((await admin(tn, 'PUT', '/access-groups/00000000-0000-4000-8000-000000000000/provisioning', { newUserStatus: null, automaticInvitation: null })).status, 404);
      // clearing both removes the identity's row
      await admin(tn, 'PUT', `/users/${ident}/provisioning`, { newUserStatus: null, automaticInvitation: null }, 200);
      const rows = await t.db.query('SELECT 1 FROM identity_provisioning_overrides WHERE tenant_id = $1', [tn.tenantId]);
      assert.equal(rows.rows.length, 0);
    } finally {
      await t.close();
    }
  });

  it('SCIM creates honour the overrides: identity on adoption, access group when a new user joins its IdP group', async () => {
    const d = runDomain();
    const smtp = new SmtpSink();
    await smtp.start();
    const t = await startTestApp(kind, { ...FAST_WORKER, smtpUrl: smtp.url });
    // tenant defaults: active, no invitation
    const tn = await freshTenant(t, { newUserStatus: 'active', automaticInvitation: false });
    try {
      const sales = (await admin(tn, 'POST', '/access-groups', { name: 'Sales' }, 201)).body.id;
      const quiet = (await admin(tn, 'POST', '/access-groups', { name: 'Quiet' }, 201)).body.id;
      await admin(tn, 'PUT', `/access-groups/${sales}/provisioning`, { newUserStatus: 'staged', automaticInvitation: true }, 200);
      await admin(tn, 'PUT', `/access-groups/${quiet}/provisioning`, { newUserStatus: null, automaticInvitation: false }, 200);
      // pre-created identities with their own overrides
      const pre = (await admin(tn, 'POST', '/users', { userName: `pre@${d}` }, 201)).body.id;
      await admin(tn, 'PUT', `/users/${pre}/provisioning`, { newUserStatus: 'staged', automaticInvitation: true }, 200);
      const vip = (await admin(tn, 'POST', '/users', { userName: `vip@${d}` }, 201)).body.id;
      await admin(tn, 'PUT', `/users/${vip}/provisioning`, { newUserStatus: 'active', automaticInvitation: false }, 200);

      // adoption applies the identity's overrides
      const adopted = await scim(tn, 'POST', '/Users', user(`pre@${d}`), 201);
      assert.equal(adopted.body.id, pre);
      assert.equal(await statusOf(tn, pre), 'staged');
      await scim(tn, 'POST', '/Users', user(`vip@${d}`), 201);
      // plain users: the tenant's defaults
      const plain = (await scim(tn, 'POST', '/Users', user(`plain@${d}`), 201)).body.id;
      const s1 = (await scim(tn, 'POST', '/Users', user(`s1@${d}`), 201)).body.id;
      const both = (await scim(tn, 'POST', '/Users', user(`both@${d}`), 201)).body.id;
      for (const id of [plain, s1, both]) assert.equal(await statusOf(tn, id), 'active');

      // the IdP adds memberships after creating the users (as Entra and Okta do)
      await scim(tn, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Sales', members: [{ value: s1 }, { value: both }, { value: vip }] }, 201);
      const q = await scim(tn, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Quiet' }, 201);
      await scim(tn, 'PATCH', `/Groups/${q.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: both }] }] }, 204);

      await waitFor('Sales member staged', async () => (await statusOf(tn, s1)) === 'staged');
      await waitFor('two invitations sent', () => mailsTo(smtp, d).length >= 2);
      await waitFor('memberships processed', async () =>
        (await t.db.query('SELECT 1 FROM access_changes WHERE tenant_id = $1', [tn.tenantId])).rows.length === 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(mailsTo(smtp, d).sort(), [`RCPT TO:<pre@${d}>`, `RCPT TO:<s1@${d}>`]);
      assert.equal(await statusOf(tn, both), 'staged', 'Sales sets staged, Quiet leaves the status alone');
      assert.equal(await statusOf(tn, vip), 'active', 'the identity override wins over the access group');
      assert.equal(await statusOf(tn, plain), 'active');
      const inv = await t.db.query<{ user_id: string; state: string }>('SELECT user_id, state FROM invitations WHERE tenant_id = $1 ORDER BY state', [tn.tenantId]);
      assert.deepEqual(inv.rows.map((r) => [r.user_id, r.state]).sort(), [[pre, 'sent'], [s1, 'sent']].sort(), 'both: Quiet says no over Sales\' yes; vip: its own no');
      // a staged identity still signs in: first use activates it (access decision unchanged)
      const detail = await admin(tn, 'GET', `/users/${s1}`, undefined, 200);
      assert.deepEqual(detail.body.accessGroups.map((a: { name: string }) => a.name), ['Sales']);
    } finally {
      await admin(tn, 'DELETE', '', undefined);
      await t.close();
      await smtp.stop();
    }
  });

  it('without overrides nothing changes: the tenant default applies to every SCIM user', async () => {
    const d = runDomain();
    const smtp = new SmtpSink();
    await smtp.start();
    const t = await startTestApp(kind, { ...FAST_WORKER, smtpUrl: smtp.url });
    const tn = await freshTenant(t, { newUserStatus: 'staged', automaticInvitation: true });
    try {
      await admin(tn, 'POST', '/access-groups', { name: 'Sales' }, 201);
      const a = (await scim(tn, 'POST', '/Users', user(`a@${d}`), 201)).body.id;
      await scim(tn, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Sales', members: [{ value: a }] }, 201);
      await waitFor('one invitation', () => mailsTo(smtp, d).length >= 1);
      await waitFor('membership processed', async () =>
        (await t.db.query('SELECT 1 FROM access_changes WHERE tenant_id = $1', [tn.tenantId])).rows.length === 0);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(mailsTo(smtp, d), [`RCPT TO:<a@${d}>`]);
      assert.equal(await statusOf(tn, a), 'staged');
    } finally {
      await admin(tn, 'DELETE', '', undefined);
      await t.close();
      await smtp.stop();
    }
  });
});
