import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entraTenantIdOf, normalizeOidcConfig, OidcConfigError } from './oidc-config.js';
import { identityLookups, storableText, tokenGroupsOf } from './claims.js';

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

test('Entra v1 issuer: provider detected, v2 companion accepted, v2 discovery derived', () => {
  const c = normalizeOidcConfig({ issuer: `https://sts.windows.net/${TID}/`, audience: 'api://app' });
  assert.equal(c.provider, 'entra');
  assert.deepEqual(c.acceptedIssuers, [`https://sts.windows.net/${TID}/`, `https://login.microsoftonline.com/${TID}/v2.0`]);
  assert.equal(c.discoveryUrl, `https://login.microsoftonline.com/${TID}/v2.0/.well-known/openid-configuration`);
  assert.equal(c.entraTenantId, TID);
  assert.deepEqual(c.algorithms, ['RS256']);
});

test('Entra v2 issuer and authority forms; uppercase tenant ids normalised', () => {
  const v2 = normalizeOidcConfig({ issuer: `https://login.microsoftonline.com/${TID}/v2.0`, audience: ['a', 'b', 'a'] });
  assert.ok(v2.acceptedIssuers.includes(`https://sts.windows.net/${TID}/`));
  assert.deepEqual(v2.audiences, ['a', 'b']);
  const auth = normalizeOidcConfig({ issuer: `https://login.microsoftonline.com/${TID.toUpperCase()}/`, audience: 'x' });
  assert.equal(auth.issuer, `https://login.microsoftonline.com/${TID}/v2.0`);
  assert.equal(entraTenantIdOf('https://sts.windows.net/common/'), null);
});

test('a non-Entra provider never gets Entra issuers; Okta detected from the host', () => {
  const g = normalizeOidcConfig({ issuer: 'https://idp.example.com', audience: 'x' });
  assert.deepEqual([g.provider, g.acceptedIssuers], ['generic', ['https://idp.example.com']]);
  assert.equal(g.discoveryUrl, 'https://idp.example.com/.well-known/openid-configuration');
  const o = normalizeOidcConfig({ issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://default' });
  assert.equal(o.provider, 'okta');
  assert.equal(o.identityClaims[0]!.claim, 'uid');
  // Entra issuer under provider okta: exact issuer only.
  const forced = normalizeOidcConfig({ provider: 'okta', issuer: `https://sts.windows.net/${TID}/`, audience: 'x' });
  assert.deepEqual(forced.acceptedIssuers, [`https://sts.windows.net/${TID}/`]);
});

test('refuses none, HMAC, unknown algorithms, missing audience, bad tolerance', () => {
  for (const algorithms of [['none'], ['HS256'], ['hs512'], ['RS256', 'HS384'], ['foo'], []]) {
    assert.throws(() => normalizeOidcConfig({ issuer: 'https://idp.example.com', audience: 'x', algorithms }), OidcConfigError, String(algorithms));
  }
  assert.throws(() => normalizeOidcConfig({ issuer: 'https://idp.example.com', audience: [] }), /audience is required/);
  assert.throws(() => normalizeOidcConfig({ issuer: 'https://idp.example.com', audience: 'x', clockToleranceSeconds: 301 }), OidcConfigError);
  assert.throws(() => normalizeOidcConfig({ issuer: 'ftp://idp.example.com', audience: 'x' }), OidcConfigError);
});

test('groups: claim, overage via _claim_names or hasgroups, absent; junk values dropped', () => {
  assert.deepEqual(tokenGroupsOf({ groups: ['a', 7, '', 'b'] }, { groupsClaim: 'groups' }), { source: 'claim', values: ['a', 'b'] });
  assert.deepEqual(tokenGroupsOf({ _claim_names: { groups: 'src1' }, _claim_sources: {} }, { groupsClaim: 'groups' }), { source: 'overage', values: [] });
  assert.deepEqual(tokenGroupsOf({ hasgroups: true }, { groupsClaim: 'groups' }), { source: 'overage', values: [] });
  assert.deepEqual(tokenGroupsOf({ _claim_names: { roles: 'x' } }, { groupsClaim: 'groups' }), { source: 'absent', values: [] });
  assert.deepEqual(tokenGroupsOf({ grp: 'one' }, { groupsClaim: 'grp' }), { source: 'claim', values: ['one'] });
});

test('identity lookups follow the configured order and skip absent or unusable claims', () => {
  const cfg = normalizeOidcConfig({ issuer: `https://sts.windows.net/${TID}/`, audience: 'x' });
  assert.deepEqual(identityLookups({ upn: 'u@x', oid: 'o1', preferred_username: 7 as unknown as string }, cfg), [
    { claim: 'oid', attribute: 'externalId', value: 'o1' },
    { claim: 'upn', attribute: 'userName', value: 'u@x' },
  ]);
  assert.deepEqual(identityLookups({ oid: 'a\u0000b' }, cfg), []);
  assert.equal(storableText('ok ✓'), true);
  assert.equal(storableText('\ud800'), false);
  assert.equal(storableText('😀'), true);
});
