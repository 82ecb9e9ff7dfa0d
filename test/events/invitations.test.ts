/** Invitations: with automaticInvitation on, each provisioned user gets exactly one activation e-mail. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, openTestDatabase, startTestApp, testConfig } from '../helpers/app.js';
import { buildApp } from '../../src/app.js';
import { admin, FAST_WORKER, scim, userBody, waitFor } from './helpers.js';
import { SmtpSink } from './smtp.js';
import { createMailer } from '../../src/events/invitations.js';

eachDatabase((kind) => {
  it('sends one activation e-mail per provisioned user through SMTP, from the outbox, even with two workers', async () => {
    const smtp = new SmtpSink();
    await smtp.start();
    const config = { ...FAST_WORKER, smtpUrl: smtp.url, invitationUrl: 'https://app.example.com/activate?t={tenantId}&u={userId}' };
    const t = await startTestApp(kind, config);
    const db2 = await openTestDatabase(kind);
    const { app: app2 } = await buildApp({ config: testConfig(config), db: db2, logger: false, skipMigrations: true });
    await app2.ready();
    try {
      const call = scim(t.app, t.scimToken, t.scimBase);
      // before the setting: no invitation
      assert.equal((await call('POST', '/Users', userBody('before@example.com', { emails: [{ value: 'before@example.com' }] }))).status, 201);
      // the setting applies to events dispatched after it changes
      await waitFor('first event dispatched', async () =>
        (await t.db.query(
          'SELECT 1 FROM events e JOIN event_cursors c ON c.tenant_id = e.tenant_id WHERE e.tenant_id = $1 AND (e.txid, e.seq) <= (c.txid, c.seq)',
          [t.tenantId],
        )).rowCount === 1);
      assert.equal((await admin(t.app, 'PUT', `/tenants/${t.tenantId}/settings`, { automaticInvitation: true })).status, 200);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const u = await call('POST', '/Users', userBody(`inv${i}`, { displayName: `Invitee ${i}`, emails: [{ value: `inv${i}@example.com`, type: 'work', primary: true }] }));
        assert.equal(u.status, 201);
        ids.push(u.body.id);
      }
      // inactive and address-less users are not invited; a refused duplicate neither
      await call('POST', '/Users', userBody('inactive', { active: false, emails: [{ value: 'inactive@example.com' }] }));
      await call('POST', '/Users', userBody('no-address'));
      assert.equal((await call('POST', '/Users', userBody('INV0'))).status, 409);
      // updates never invite again
      await call('PATCH', `/Users/${ids[0]}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'displayName', value: 'Renamed' }] });
      await waitFor('5 mails', () => smtp.mails.length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(smtp.mails.length, 5);
      const to = smtp.mails.map((m) => m.to.join()).sort();
      assert.deepEqual(to, [0, 1, 2, 3, 4].map((i) => `RCPT TO:<inv${i}@example.com>`));
      const m0 = smtp.mails.find((m) => m.to[0]!.includes('inv0@'))!;
      assert.match(m0.data, /Subject: Your Test tenant account is ready/);
      assert.ok(m0.data.replace(/=\r\n/g, '').replace(/=3D/g, '=').includes(`u=${ids[0]}`), 'activation link');
      assert.match(m0.data, /Message-ID:\s*<invitation\./i);
      const rows = await t.db.query<{ state: string }>('SELECT state FROM invitations WHERE tenant_id = $1', [t.tenantId]);
      assert.deepEqual(rows.rows.map((r) => r.state), ['sent', 'sent', 'sent', 'sent', 'sent']);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await app2.close();
      if (kind === 'postgres') await db2.close();
      await t.close();
      await smtp.stop();
    }
  });

  it('a user deleted before the send is not invited', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      await admin(t.app, 'PUT', `/tenants/${t.tenantId}/settings`, { automaticInvitation: true });
      const call = scim(t.app, t.scimToken, t.scimBase);
      const u = await call('POST', '/Users', userBody('gone@example.com'));
      await call('DELETE', `/Users/${u.body.id}`);
      const sent: string[] = [];
      const { EventsWorker } = await import('../../src/events/worker.js');
      const { workerOptions } = await import('../../src/events/index.js');
      const w = new EventsWorker(t.db, workerOptions(testConfig()), console, { async send(m) { sent.push(m.to); }, close() {} });
      await w.tick();
      await w.tick();
      assert.deepEqual(sent, []);
      const rows = await t.db.query<{ state: string }>('SELECT state FROM invitations WHERE tenant_id = $1', [t.tenantId]);
      assert.deepEqual(rows.rows.map((r) => r.state), ['cancelled']);
      await w.stop();
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });
});

it('without SMTP_URL the message is written to the log', async () => {
  const lines: { obj: any; msg: string }[] = [];
  const log = { info: (obj: object, msg: string) => lines.push({ obj, msg }), warn: () => {} };
  const m = createMailer(undefined, log);
  await m.send({ from: 'a@b.c', to: 'x@example.com', subject: 'Hi', text: 'body', messageId: '<m1@idpbridge>' });
  m.close();
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.obj.mail.subject, 'Hi');
  assert.deepEqual(lines[0]!.obj.mail.to, [{ address: 'x@example.com', name: '' }]);
});
