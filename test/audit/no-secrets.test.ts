// No secret value ever reaches an audit entry or its outbox event: random secrets go through every
// secret-bearing route (given in the body, or generated and returned once), then the stored rows
// are searched for them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { client } from '../console/helpers.js';

const secretArb = fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789-_.~'.split('')), minLength: 20, maxLength: 48 });

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });
  const admin = { authorization: 'Bearer idpb_admin_test-operator-token-0123456789' };
  const call = (method: string, url: string, payload?: unknown) =>
    t.app.inject({ method: method as 'GET', url, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) });

  /** How many audit rows or audit events contain the text anywhere. */
  const occurrences = async (text: string) => {
    const a = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log a WHERE strpos(a::text, $1) > 0`, [text]);
    const e = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'audit.recorded' AND strpos(data::text, $1) > 0`, [text]);
    return Number(a.rows[0]!.n) + Number(e.rows[0]!.n);
  };

  test('audit: random secrets through the secret-bearing routes never appear in an entry (only that they changed)', async () => {
    const { tenantId } = await t.newTenant('Secrets');
    let run = 0;
    await fc.assert(fc.asyncProperty(secretArb, secretArb, secretArb, async (s1, s2, s3) => {
      run++;
      const seen: string[] = [s1, s2, s3];
      const base = `/admin/v1/tenants/${tenantId}`;
      const wh = await call('POST', `${base}/webhooks`, { url: `https://hooks.example.com/${run}`, secret: s1 });
      assert.equal(wh.statusCode, 201, wh.body);
      const patched = await call('PATCH', `${base}/webhooks/${wh.json().id}`, { secret: s2 });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal((await call('DELETE', `${base}/webhooks/${wh.json().id}`)).statusCode, 204);
      assert.ok([200, 204].includes((await call('PUT', `${base}/scim-basic`, { username: `u${run}`, password: s3 })).statusCode));
      const login = `sec${run}-${tenantId.slice(0, 8)}@example.com`;
      const acct = await call('POST', `${base}/console-accounts`, { login, password: s1 });
      assert.equal(acct.statusCode, 201, acct.body);
      assert.equal((await call('PATCH', `${base}/console-accounts/${acct.json().id}`, { password: s2 })).statusCode, 200);
      // Refused sign-ins with the secret as the password, operator token and set-up link secret.
      const c = client(t.app);
      assert.equal((await c.req('POST', '/console/api/session', { login, password: s3 }, { csrf: false })).statusCode, 401);
      assert.ok((await c.req('POST', '/console/api/session', { operatorToken: s3 }, { csrf: false })).statusCode >= 400);
      assert.ok((await c.req('POST', '/console/api/setup-session', { tenantId, secret: s3 }, { csrf: false })).statusCode >= 400);
      // A bearer secret in a refused admin call.
      assert.equal((await t.app.inject({ method: 'GET', url: `${base}/settings`, headers: { authorization: `Bearer ${s1}` } })).statusCode, 401);
      // Generated secrets shown once in the answer.
      const tok = await call('POST', `${base}/scim-tokens`, { name: `t${run}` });
      assert.equal(tok.statusCode, 201, tok.body);
      seen.push(tok.json().token);
      const link = await call('POST', `${base}/setup-links`, {});
      assert.equal(link.statusCode, 201, link.body);
      seen.push(String(link.json().url).split('/').pop()!); // …/console/#/setup/{tenant}/{secret}
      // Refusals are written just after their answer.
      await new Promise((r) => setTimeout(r, 100));
      for (const secret of seen) assert.equal(await occurrences(secret), 0, `secret ${secret} found in the audit trail`);
    }), { numRuns: 8 });
    // The changes say that the secrets changed.
    const r = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?action=webhook.updated&limit=1`);
    assert.deepEqual(r.json().entries[0].changes, { secret: { changed: true } });
    const basic = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?action=scim_basic.set&limit=1`);
    assert.deepEqual(basic.json().entries[0].changes.password, { changed: true });
  });
});
