import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { KeyCache, IdpUnavailableError } from './key-cache.js';
import { fetchJson, FetchJsonError, checkIdpUrl, idpAgent } from './fetch.js';
import { TargetPolicy } from '../lib/outbound.js';

// The test IdP listens on loopback: allowed explicitly, as an operator would (IDPBRIDGE_ALLOW_PRIVATE_TARGETS).
const loopback = { dispatcher: idpAgent(new TargetPolicy(['127.0.0.0/8'])) };

let server: http.Server;
let base: string;
let jwks: { keys: object[] } = { keys: [] };
let status = 200;
let hits = 0;
let delayMs = 0;

before(async () => {
  server = http.createServer((req, res) => {
    hits++;
    setTimeout(() => {
      if (req.url === '/slow') return; // never answers
      if (status !== 200) return res.writeHead(status).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await loopback.dispatcher.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function key(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

test('unknown kid refetches once per cooldown; concurrent misses share one fetch', async () => {
  const k1 = await key('k1');
  const k2 = await key('k2');
  jwks = { keys: [k1.jwk] };
  status = 200;
  const cache = new KeyCache({ cooldownMs: 60_000, fetch: loopback });
  const url = `${base}/jwks-a`;
  const resolve = cache.resolver(url);
  await resolve({ alg: 'RS256', kid: 'k1' }, { payload: '', signature: '' } as never);
  assert.equal(cache.jwks.fetches, 1);
  // k2 appears, but the first fetch was just now: within the cooldown no refetch happens.
  jwks = { keys: [k1.jwk, k2.jwk] };
  await assert.rejects(resolve({ alg: 'RS256', kid: 'k2' }, {} as never), /no applicable key|matching/i);
  assert.equal(cache.jwks.fetches, 1);

  const cool = new KeyCache({ cooldownMs: 0, fetch: loopback });
  const r2 = cool.resolver(`${base}/jwks-b`);
  jwks = { keys: [k1.jwk] };
  await r2({ alg: 'RS256', kid: 'k1' }, {} as never);
  jwks = { keys: [k1.jwk, k2.jwk] };
  const before = hits;
  await Promise.all(Array.from({ length: 20 }, () => r2({ alg: 'RS256', kid: 'k2' }, {} as never)));
  assert.equal(hits - before, 1, 'single-flight refetch');
  // a token really signed with k2 verifies through the resolver
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k2' }).sign(k2.privateKey);
  assert.ok(jwt);
});

test('stale-while-error: an old copy keeps serving when the refresh fails; none at all → IdpUnavailableError', async () => {
  const k1 = await key('k1');
  jwks = { keys: [k1.jwk] };
  status = 200;
  const cache = new KeyCache({ maxAgeMs: 1, cooldownMs: 0, fetch: loopback });
  const url = `${base}/jwks-c`;
  await cache.jwks.get(url);
  status = 500;
  await new Promise((r) => setTimeout(r, 5));
  const stale = await cache.jwks.get(url);
  assert.equal(stale.jwks.keys.length, 1);
  await cache.resolver(url)({ alg: 'RS256', kid: 'k1' }, {} as never);
  await assert.rejects(cache.jwks.get(`${base}/never-fetched`), IdpUnavailableError);
  status = 200;
});

test('symmetric keys in a JWKS are ignored', async () => {
  const k1 = await key('k1');
  jwks = { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'k1' }, k1.jwk] };
  const cache = new KeyCache({ fetch: loopback });
  const set = await cache.jwks.get(`${base}/jwks-d`);
  assert.deepEqual(set.jwks.keys.map((k) => k.kty), ['RSA']);
});

test('fetchJson: timeout, size limit, https-only except loopback', async () => {
  await assert.rejects(fetchJson(`${base}/slow`, 'JWKS', { timeoutMs: 200, ...loopback }), (e: FetchJsonError) => e.kind === 'network');
  jwks = { keys: [{ pad: 'x'.repeat(5000) }] };
  await assert.rejects(fetchJson(`${base}/big`, 'JWKS', { maxBytes: 1000, ...loopback }), (e: FetchJsonError) => e.kind === 'too_large');
  assert.throws(() => checkIdpUrl('http://login.example.com/x', 'discovery'), (e: FetchJsonError) => e.kind === 'insecure_url');
  assert.throws(() => checkIdpUrl('file:///etc/passwd', 'discovery'), (e: FetchJsonError) => e.kind === 'invalid_url');
  assert.equal(checkIdpUrl('http://localhost:1/x', 'd').hostname, 'localhost');
  assert.equal(checkIdpUrl('https://login.microsoftonline.com/x', 'd').protocol, 'https:');
});

test('fetchJson: a loopback IdP without an allow-list entry is refused like an unreachable one', async () => {
  await assert.rejects(fetchJson(`${base}/jwks`, 'JWKS'), (e: FetchJsonError) => e.kind === 'network' && /could not be reached/.test(e.message));
});
