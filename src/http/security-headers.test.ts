import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerSecurityHeaders, securityHeaders } from './security-headers.js';

test('security headers: helmet defaults without CSP, on routes, 404s and errors', async () => {
  const h = securityHeaders();
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.match(h['strict-transport-security'] ?? '', /max-age=\d+/);
  assert.equal(h['x-frame-options'], 'SAMEORIGIN');
  assert.equal(h['content-security-policy'], undefined, 'the console sets its own CSP');

  const app = Fastify();
  registerSecurityHeaders(app);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/boom', async () => { throw new Error('x'); });
  for (const url of ['/ok', '/missing', '/boom']) {
    const res = await app.inject({ url });
    for (const [name, value] of Object.entries(h)) assert.equal(res.headers[name], value, `${url}: ${name}`);
  }
  await app.close();
});
