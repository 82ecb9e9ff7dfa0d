// Pure helpers: the idp configuration section, the webhook signature recipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpConfigError, parseIdpConfig, verifyWebhookSignature, signInUrl } from '../src/index.js';
import { signPayload } from '../../../src/events/signature.js';

test('idp section: camelCase, the Okta guide\'s snake_case (tenant_id = Okta client id), Entra token URL from the directory id', () => {
  const okta = parseIdpConfig({ type: 'okta', customerId: 'c1', tokenUrl: 'https://acme.okta.com/oauth2/v1/token', clientId: '0oa1', clientSecret: 's' });
  assert.deepEqual(okta, { type: 'okta', customerId: 'c1', tokenUrl: 'https://acme.okta.com/oauth2/v1/token', clientId: '0oa1', clientSecret: 's' });
  const guide = parseIdpConfig(JSON.stringify({ idp: {
    type: 'okta', customer_id: '6e7e795e-26a2-4973-aa73-b9fc259ebc5f', token_endpoint_url: 'https://trial-4377979.okta.com/oauth2/v1/token',
    tenant_id: '0oamj6wsupUbPfqXt697', client_secret: 'iKrc',
  } }));
  assert.equal(guide.clientId, '0oamj6wsupUbPfqXt697');
  assert.equal(guide.customerId, '6e7e795e-26a2-4973-aa73-b9fc259ebc5f');
  const entra = parseIdpConfig({ type: 'entra', tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: 'app', clientSecret: 's', scope: 'api://x/.default' });
  assert.equal(entra.tokenUrl, 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token');
  for (const bad of [
    { type: 'auth0', tokenUrl: 'https://x', clientId: 'a', clientSecret: 'b' },
    { type: 'okta', clientId: 'a', clientSecret: 'b' },
    { type: 'okta', tokenUrl: 'http://acme.okta.com/token', clientId: 'a', clientSecret: 'b' },
    { type: 'okta', tokenUrl: 'https://acme.okta.com/token', clientSecret: 'b' },
    { type: 'entra', tenant: 't', clientId: 'a' },
    [],
  ]) assert.throws(() => parseIdpConfig(bad), IdpConfigError, JSON.stringify(bad));
});

test('webhook signatures: the server\'s signing verifies; wrong secret, altered body, stale timestamp do not', () => {
  const body = JSON.stringify({ type: 'user.created', data: { id: 'u1' } });
  const header = signPayload('whsec_test', body);
  assert.equal(verifyWebhookSignature('whsec_test', body, header), true);
  assert.equal(verifyWebhookSignature('whsec_test', Buffer.from(body), header), true);
  assert.equal(verifyWebhookSignature('whsec_other', body, header), false);
  assert.equal(verifyWebhookSignature('whsec_test', `${body} `, header), false);
  assert.equal(verifyWebhookSignature('whsec_test', body, signPayload('whsec_test', body, Math.floor(Date.now() / 1000) - 3600)), false);
  assert.equal(verifyWebhookSignature('whsec_test', body, `${header},v1=${'0'.repeat(64)}`), true, 'several v1 values (rotation)');
  assert.equal(verifyWebhookSignature('whsec_test', body, undefined), false);
  assert.equal(verifyWebhookSignature('whsec_test', body, 't=abc,v1=00'), false);
});

test('sign-in URLs', () => {
  assert.equal(signInUrl('https://idp.example/', 't1', 'https://app.example/cb', 's'), 'https://idp.example/sso/t1/login?redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s');
  assert.match(signInUrl('https://idp.example', 't1', 'https://app.example/cb', undefined, { method: 'password' }), /\/sso\/t1\/password-login\?redirect_uri=/);
});
