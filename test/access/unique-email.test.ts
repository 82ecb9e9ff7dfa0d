/** The tenant setting uniquePrimaryEmail: off by default; on, a second identity with the same primary address is 409 uniqueness. */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { CORE, admin, freshTenant, patchUser, scim } from './helpers.js';

const user = (userName: string, email: string, extra: Record<string, unknown> = {}) => ({
  schemas: [CORE], userName, active: true, emails: [{ value: 'other@x.com', type: 'home' }, { value: email, type: 'work', primary: true }], ...extra,
});

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  describe('unique primary e-mail', () => {
    it('off by default: two identities may share a primary address', async () => {
      const tn = await freshTenant(t);
      assert.equal((await admin(tn, 'GET', '/settings', undefined, 200)).body.uniquePrimaryEmail, false);
      await scim(tn, 'POST', '/Users', user('a@x.com', 'shared@x.com'), 201);
      await scim(tn, 'POST', '/Users', user('b@x.com', 'shared@x.com'), 201);
    });

    it('on: SCIM create, SCIM update and admin writes with a taken primary address are 409, nothing written', async () => {
      const tn = await freshTenant(t, { uniquePrimaryEmail: true });
      await scim(tn, 'POST', '/Users', user('a@x.com', 'Shared@X.com'), 201);
      const dup = await scim(tn, 'POST', '/Users', user('b@x.com', 'shared@x.COM'), 409);
      assert.equal(dup.body.scimType, 'uniqueness');
      assert.equal((await admin(tn, 'GET', '/users', undefined, 200)).body.total, 1, 'nothing stored');
      // a non-primary address may repeat
      const b = (await scim(tn, 'POST', '/Users', user('b@x.com', 'b@x.com'), 201)).body.id as string;
      // update to the taken address: refused, the stored one stays
      await patchUser(tn, b, [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'SHARED@x.com' }], 409);
      const got = await scim(tn, 'GET', `/Users/${b}`, undefined, 200);
      assert.ok(got.body.emails.some((e: { value: string; primary?: boolean }) => e.primary && e.value === 'b@x.com'));
      // an update that keeps its own address is fine
      await patchUser(tn, b, [{ op: 'replace', path: 'displayName', value: 'B' }]);
      // admin API (manual identities)
      const m = await admin(tn, 'POST', '/users', { userName: 'm@x.com', emails: [{ value: 'shared@x.com', primary: true }] });
      assert.equal(m.status, 409, JSON.stringify(m.body));
      assert.equal((await admin(tn, 'GET', '/users', undefined, 200)).body.total, 2);
      await admin(tn, 'POST', '/users', { userName: 'm@x.com', emails: [{ value: 'm@x.com', primary: true }] }, 201);
    });
  });
});
