// Replays every request the fuzz campaign (`npm run fuzz`, scripts/fuzz.ts) found failing, kept in
// test/security/fixtures/, over a real HTTP connection (some failures were in the HTTP layer): each
// must now get a well-formed answer below 500, with no error-level log line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { captureLogs } from './helpers.js';
import type { FuzzFixture } from './fuzz-fixture.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixtures: { file: string; f: FuzzFixture }[] = readdirSync(DIR).filter((n) => n.endsWith('.json')).sort()
  .map((file) => ({ file, f: JSON.parse(readFileSync(join(DIR, file), 'utf8')) as FuzzFixture }));

test('every fixture is a request with a method and a path', () => {
  for (const { file, f } of fixtures) assert.ok(f.request?.method && f.request.path, `${file}: a request with method and path`);
});

eachDatabase((kind) => {
  let t: TestApp;
  const logs = captureLogs();
  let ids: Record<string, string>;

  before(async () => {
    t = await startTestApp(kind, { logLevel: 'info', rateLimitPerMinute: 0 }, { loggerStream: logs.stream });
    const scim = async (path: string, body: unknown) => {
      const r = await t.app.inject({ method: 'POST', url: `${t.scimBase}${path}`, headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' }, payload: JSON.stringify(body) });
      assert.equal(r.statusCode, 201, r.body);
      return r.json().id as string;
    };
    const user = await scim('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fuzz.target@example.com' });
    const group = await scim('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Fuzz group', members: [{ value: user }] });
    ids = { tenant: t.tenantId, user, group, scimToken: t.scimToken, adminToken: t.adminToken, apiKey: 'idpb_key_none' };
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });
  let port: number;
  after(async () => { await t?.close(); });

  const fill = (s: string) => s.replace(/\{(tenant|user|group|scimToken|adminToken|apiKey)(:upper)?\}/g, (_m, k: string, up?: string) => (up ? ids[k]!.toUpperCase() : ids[k]!));

  for (const { file, f } of fixtures) {
    test(`${file}: ${f.problem}`, async () => {
      logs.clear();
      const r = f.request;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = fill(v);
      const payload = r.base64 !== undefined ? Buffer.from(r.base64, 'base64') : r.text !== undefined ? fill(r.text) : undefined;
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: r.method, path: fill(r.path), headers: { ...headers, ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}) }, agent: false }, (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c) => chunks.push(c));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          answer.on('error', reject);
        });
        // A malformed answer (e.g. a body after a HEAD answer) is a client parse error: the test fails.
        req.on('error', reject);
        req.end(payload);
      });
      assert.ok(res.status > 0 && res.status < 500, `${r.method} ${r.path.slice(0, 200)} → ${res.status} ${res.body.slice(0, 300)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(logs.errors(), [], 'no error-level log line');
    });
  }
});
