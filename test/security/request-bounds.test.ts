/**
 * Issue 17, items 4 and 5: /v1 authenticates before it reads a body, /v1 and the sign-in broker
 * take small bodies only; tenant ids are canonical (lower case) before anything uses them; failed
 * /v1 authentications count against the caller's address, not the tenant's bucket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { GROUP, PATCH, USER } from '../scim/helpers.js';
import { V1_BODY_LIMIT } from '../../src/idp-tokens/v1-plugin.js';
import { SSO_BODY_LIMIT } from '../../src/sso/plugin.js';

/** ~1 MB of JSON built to be slow to pre-check (runs of 308 digits). */
const crafted = `{"dataset":"x","pad":[${`${'1'.repeat(308)},`.repeat(3_300)}0]}`;

eachDatabase((kind) => {
  test('/v1 authenticates before reading the body; /v1 and /sso refuse bodies over 16 KB', async () => {
    const t = await startTestApp(kind);
    try {
      const admin = { authorization: `Bearer ${t.adminToken}` };
      const id = (await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: admin, payload: { userName: 'v1@example.com' } })).json().id;
      const key = (await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users/${id}/api-keys`, headers: admin, payload: { name: 'k' } })).json().key as string;
      const authorize = (authorization: string | undefined, payload: string) => t.app.inject({
        method: 'POST', url: `/v1/${t.tenantId}/authorize`, payload,
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      });
      // Without a credential (or with a wrong one) the body is never parsed: a malformed body is 401, not 400.
      assert.equal((await authorize(undefined, '{not json')).statusCode, 401);
      assert.equal((await authorize('Bearer idpb_key_wrong', '{not json')).statusCode, 401);
      const anon = await authorize(undefined, crafted);
      assert.equal(anon.statusCode, 401, anon.body);
      // With a valid key: the body limit.
      assert.ok(crafted.length > V1_BODY_LIMIT);
      const big = await authorize(`Bearer ${key}`, crafted);
      assert.equal(big.statusCode, 413, big.body);
      assert.equal(big.json().code, 'ERR_PAYLOAD_TOO_LARGE');
      const ok = await authorize(`Bearer ${key}`, JSON.stringify({ dataset: 'x', pad: 'y'.repeat(V1_BODY_LIMIT - 100) }));
      assert.equal(ok.statusCode, 200, ok.body);
      // The sign-in broker: JSON and form bodies alike.
      for (const ct of ['application/json', 'application/x-www-form-urlencoded']) {
        const r = await t.app.inject({ method: 'POST', url: `/sso/${t.tenantId}/password-login`, headers: { 'content-type': ct }, payload: ct === 'application/json' ? crafted : `login=a&password=${'x'.repeat(SSO_BODY_LIMIT)}` });
        assert.equal(r.statusCode, 413, `${ct}: ${r.body}`);
      }
    } finally {
      await t.close();
    }
  });

  test('failed /v1 authentications count per client address: an anonymous flood does not make a valid key get 429', async () => {
    const t = await startTestApp(kind, { rateLimitPerMinute: 5 });
    try {
      const admin = { authorization: `Bearer ${t.adminToken}` };
      const id = (await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: admin, payload: { userName: 'v1@example.com' } })).json().id;
      const key = (await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users/${id}/api-keys`, headers: admin, payload: { name: 'k' } })).json().key as string;
      const me = (authorization: string, ip: string, tenant = t.tenantId) =>
        t.app.inject({ method: 'GET', url: `/v1/${tenant}/me`, headers: { authorization }, remoteAddress: ip });
      const flood: number[] = [];
      for (let i = 0; i < 8; i++) flood.push((await me(`Bearer idpb_key_bad${i}`, '10.9.9.9')).statusCode);
      assert.deepEqual(flood, [401, 401, 401, 401, 401, 429, 429, 429]);
      const limited = await me('Bearer idpb_key_bad', '10.9.9.9');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal(limited.json().code, 'ERR_RATE_LIMITED');
      // The tenant's valid key, from another address, has its whole budget (5), upper-case URL or not.
      const valid: number[] = [];
      for (let i = 0; i < 6; i++) valid.push((await me(`Bearer ${key}`, '10.1.1.1', i % 2 ? t.tenantId.toUpperCase() : t.tenantId)).statusCode);
      assert.deepEqual(valid, [200, 200, 200, 200, 200, 429]);
    } finally {
      await t.close();
    }
  });

  test('a tenant id in upper case is the same tenant everywhere: a rename through it reaches the group-name cache', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      const upper = `/scim/v2/${t.tenantId.toUpperCase()}`;
      const user = (await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: h, payload: { schemas: [USER], userName: 'case@example.com' } })).json();
      const group = (await t.app.inject({ method: 'POST', url: `${t.scimBase}/Groups`, headers: h, payload: { schemas: [GROUP], displayName: 'Before', members: [{ value: user.id }] } })).json();
      const read = async () => (await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users/${user.id}`, headers: h })).json().groups as Array<{ display: string }>;
      assert.equal((await read())[0]!.display, 'Before'); // cached now
      const renamed = await t.app.inject({
        method: 'PATCH', url: `${upper}/Groups/${group.id}`, headers: h,
        payload: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'After' }] },
      });
      assert.ok(renamed.statusCode === 200 || renamed.statusCode === 204, renamed.body);
      assert.equal((await read())[0]!.display, 'After');
      // meta.location is canonical too.
      const viaUpper = (await t.app.inject({ method: 'GET', url: `${upper}/Groups/${group.id}`, headers: h })).json();
      assert.ok(String(viaUpper.meta.location).includes(`/scim/v2/${t.tenantId}/Groups/`), viaUpper.meta.location);
    } finally {
      await t.close();
    }
  });
});
