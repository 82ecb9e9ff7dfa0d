/**
 * Issue 17, items 9, 13, 19 and 20: inputs that were a 500 (or a probe that missed), each a 4xx or
 * the right answer now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { USER } from '../scim/helpers.js';

const METADATA = 'urn:ietf:params:scim:schemas:extension:2.0:Metadata';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

eachDatabase((kind) => {
  test('sortBy on an open Metadata attribute sorts (no 500), on every page', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      for (const [name, cc] of [['m1@example.com', 'b'], ['m2@example.com', 'a'], ['m3@example.com', 'c']]) {
        const r = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: h, payload: { schemas: [USER, METADATA], userName: name, [METADATA]: { costCenter: cc } } });
        assert.equal(r.statusCode, 201, r.body);
      }
      // count=2 forces the count query (a full first page does not prove the total).
      const r = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?sortBy=${encodeURIComponent(`${METADATA}:costCenter`)}&count=2`, headers: h });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json().totalResults, 3);
      assert.deepEqual(r.json().Resources.map((u: { userName: string }) => u.userName), ['m2@example.com', 'm1@example.com']);
      const f = await t.app.inject({
        method: 'GET', headers: h,
        url: `${t.scimBase}/Users?filter=${encodeURIComponent('userName sw "m"')}&sortBy=${encodeURIComponent(`${METADATA}:costCenter`)}&sortOrder=descending&count=1&startIndex=2`,
      });
      assert.equal(f.statusCode, 200, f.body);
      assert.equal(f.json().totalResults, 3);
      assert.equal(f.json().Resources[0].userName, 'm1@example.com');
    } finally {
      await t.close();
    }
  });

  test('userName with İ (U+0130): the probe finds what POST conflicts with', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      for (const name of ['İnci@example.com', 'DENİZ@example.com']) {
        const created = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: h, payload: { schemas: [USER], userName: name } });
        assert.equal(created.statusCode, 201, created.body);
        const again = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: h, payload: { schemas: [USER], userName: name } });
        assert.equal(again.statusCode, 409, again.body);
        // Entra's probe-then-create: the identical string finds the user that POST conflicts with.
        const probe = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`, headers: h });
        assert.equal(probe.statusCode, 200, probe.body);
        assert.equal(probe.json().totalResults, 1, `${name}: ${probe.body}`);
        assert.equal(probe.json().Resources[0].id, created.json().id);
        const sw = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?filter=${encodeURIComponent(`userName sw "${name.slice(0, 3)}"`)}`, headers: h });
        assert.equal(sw.json().totalResults, 1, `${name} sw: ${sw.body}`);
      }
      // Plain ASCII case-insensitivity is unchanged.
      const ascii = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?filter=${encodeURIComponent('userName eq "deniz@EXAMPLE.com"')}`, headers: h });
      assert.equal(ascii.statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('.search with count, startIndex or sortOrder as an object, array or boolean is 400 invalidValue', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      const bad: Array<Record<string, unknown>> = [
        { count: {} }, { count: { toString: 1 } }, { startIndex: { valueOf: 1, toString: 1 } }, { count: [1, 2] }, { startIndex: true },
        { sortOrder: { toString: 1 } }, { sortOrder: ['ascending'] },
      ];
      for (const url of [`${t.scimBase}/.search`, `${t.scimBase}/Users/.search`, `${t.scimBase}/Groups/.search`]) {
        for (const extra of bad) {
          const r = await t.app.inject({ method: 'POST', url, headers: h, payload: { schemas: [SEARCH], ...extra } });
          assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(extra)}: ${r.body}`);
          assert.equal(r.json().scimType, 'invalidValue', `${url} ${JSON.stringify(extra)}`);
        }
        const ok = await t.app.inject({ method: 'POST', url, headers: h, payload: { schemas: [SEARCH], count: 5, startIndex: '1' } });
        assert.equal(ok.statusCode, 200, ok.body);
      }
    } finally {
      await t.close();
    }
  });

  test('a \\u0000 (or lone surrogate) escape inside a filter string is 400 invalidFilter, in the URL and in .search', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      for (const filter of ['title co "\\u0000x"', 'userName eq "a\\u0000"', 'emails[value sw "\\u0000"]', 'displayName eq "\\ud800"', 'emails.value ew "\\udc00z"']) {
        for (const path of ['Users', 'Groups']) {
          if (path === 'Groups' && !filter.startsWith('displayName')) continue;
          const r = await t.app.inject({ method: 'GET', url: `${t.scimBase}/${path}?filter=${encodeURIComponent(filter)}`, headers: h });
          assert.equal(r.statusCode, 400, `${filter}: ${r.body}`);
          assert.equal(r.json().scimType, 'invalidFilter');
        }
        const s = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users/.search`, headers: h, payload: JSON.stringify({ schemas: [SEARCH], filter }) });
        assert.equal(s.statusCode, 400, `.search ${filter}: ${s.body}`);
        assert.equal(s.json().scimType, 'invalidFilter');
        // The root search skips a resource type its filter cannot apply to: nothing matches, no 500.
        const root = await t.app.inject({ method: 'POST', url: `${t.scimBase}/.search`, headers: h, payload: JSON.stringify({ schemas: [SEARCH], filter }) });
        assert.ok(root.statusCode === 400 || (root.statusCode === 200 && root.json().totalResults === 0), `root .search ${filter}: ${root.body}`);
      }
    } finally {
      await t.close();
    }
  });
});
