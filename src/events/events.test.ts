import { it } from 'node:test';
import assert from 'node:assert/strict';
import { signPayload, verifySignature } from './signature.js';
import { backoffDelay } from './delivery.js';
import { isValidEventFilter, matchesFilter } from './types.js';
import { detectIdp, redactQuery, summarizeBody } from './provisioning-log.js';
import { invitationFor } from './dispatch.js';

it('signature: signs t.body, verifies, rejects tampering, wrong secret and stale timestamps', () => {
  const body = '{"id":"e1"}';
  const h = signPayload('whsec_x', body, 1_700_000_000);
  assert.match(h, /^t=1700000000,v1=[0-9a-f]{64}$/);
  assert.ok(verifySignature('whsec_x', body, h, { now: 1_700_000_100 }));
  assert.ok(!verifySignature('whsec_y', body, h, { now: 1_700_000_100 }));
  assert.ok(!verifySignature('whsec_x', `${body} `, h, { now: 1_700_000_100 }));
  assert.ok(!verifySignature('whsec_x', body, h, { now: 1_700_001_000 }));
  assert.ok(!verifySignature('whsec_x', body, undefined));
  assert.ok(!verifySignature('whsec_x', body, 'v1=abc'));
});

it('backoff: exponential, capped, jittered within [d/2, d]', () => {
  const p = { baseMs: 10_000, maxMs: 3_600_000 };
  assert.equal(backoffDelay(1, p, () => 1), 10_000);
  assert.equal(backoffDelay(1, p, () => 0), 5_000);
  assert.equal(backoffDelay(4, p, () => 1), 80_000);
  assert.equal(backoffDelay(30, p, () => 1), 3_600_000);
  assert.equal(backoffDelay(1000, p, () => 0), 1_800_000);
  // defaults retry for more than 24 h before the window (25 h) dead-letters
  let t = 0;
  let n = 0;
  while (t < 24 * 3_600_000) t += backoffDelay(++n, p, () => 1);
  assert.ok(n > 25 && n < 60, `${n} attempts in 24 h`);
});

it('event filters', () => {
  assert.ok(matchesFilter('user.created', []));
  assert.ok(matchesFilter('user.created', ['user.*']));
  assert.ok(matchesFilter('user.created', ['*']));
  assert.ok(!matchesFilter('group.created', ['user.*', 'access.granted']));
  assert.ok(isValidEventFilter('group.*') && isValidEventFilter('access.revoked') && isValidEventFilter('*'));
  assert.ok(!isValidEventFilter('foo.*') && !isValidEventFilter('user.exploded') && !isValidEventFilter('user*'));
});

it('IdP from User-Agent', () => {
  assert.equal(detectIdp('Azure AD SCIM Client'), 'entra');
  assert.equal(detectIdp('Microsoft Entra ID Provisioning'), 'entra');
  assert.equal(detectIdp('Okta SCIM Client 1.0.0'), 'okta');
  assert.equal(detectIdp('curl/8'), 'other');
  assert.equal(detectIdp(undefined), 'other');
});

it('summaries keep an allow-list only: never password values', () => {
  const s = summarizeBody('create', 'User', { userName: 'a', password: 'p4ss', active: true, 'urn:x:secretToken': 'zzz' });
  assert.deepEqual(s, { active: true, userName: 'a', attributes: ['active', 'password', 'urn:x:secretToken', 'userName'] });
  const p = summarizeBody('patch', 'User', { Operations: [{ op: 'add', path: 'password', value: 'p4ss' }, { op: 'Replace', path: 'active', value: 'False' }, { op: 'remove', path: 'members', value: [{ value: '1' }, { value: '2' }] }] });
  assert.ok(!JSON.stringify(p).includes('p4ss'));
  assert.deepEqual((p as any).operations[1], { op: 'Replace', path: 'active', value: 'False' });
  assert.equal((p as any).operations[2].memberCount, 2);
  assert.equal(redactQuery('/Users?access_token=abc&filter=x&password=y'), '/Users?access_token=[redacted]&filter=x&password=[redacted]');
});

it('invitation address: primary, then work, then first, then an e-mail userName; none when inactive', () => {
  const u = (scim: object, extra: object = {}) => ({ id: 'u1', userName: 'jdoe', active: true, displayName: null, scim, ...extra });
  assert.equal(invitationFor(u({ emails: [{ value: 'a@x.io' }, { value: 'b@x.io', primary: true }] }))?.email, 'b@x.io');
  assert.equal(invitationFor(u({ emails: [{ value: 'a@x.io', type: 'home' }, { value: 'w@x.io', type: 'work' }] }))?.email, 'w@x.io');
  assert.equal(invitationFor(u({}, { userName: 'j@x.io' }))?.email, 'j@x.io');
  assert.equal(invitationFor(u({})), undefined);
  assert.equal(invitationFor(u({ emails: [{ value: 'a@x.io' }] }, { active: false })), undefined);
});
