/**
 * PostgreSQL restarted under load (`pg_ctlcluster … restart`): while it is down every request
 * fails cleanly — 503 in the SCIM error format, never a hang, never a crash — /readyz turns 503
 * and back to 200, and idpbridge recovers by itself (no restart). Writes acknowledged with 201
 * are all there afterwards.
 *
 * This restarts the shared PostgreSQL cluster: it runs only from `npm run test:soak` with
 * TEST_DATABASE_URL set and the cluster managed by pg_ctlcluster on this machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { ADMIN_TOKEN } from '../helpers/app.js';
import { startServerProcess } from '../helpers/process.js';

const run = promisify(execFile);
const PG_URL = process.env.TEST_DATABASE_URL;
const version = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort().pop() : undefined;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

test('PostgreSQL restart under load: 503s in SCIM format, no hang, no crash, recovery without restart', {
  skip: !PG_URL || !version ? 'needs TEST_DATABASE_URL and a pg_ctlcluster-managed cluster' : false,
  timeout: 300_000,
}, async () => {
  const server = await startServerProcess({ DATABASE_URL: PG_URL, IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '0', IDPBRIDGE_WORKER: 'off' });
  try {
    const admin = async (url: string, body: unknown) => {
      const r = await fetch(`${server.url}/admin/v1${url}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.ok(r.ok);
      return r.json() as Promise<any>;
    };
    const tenant = await admin('/tenants', { name: 'pg restart' });
    const token = (await admin(`/tenants/${tenant.id}/scim-tokens`, {})).token as string;
    const base = `${server.url}/scim/v2/${tenant.id}`;

    const statuses = new Map<string, number>();
    const problems: string[] = [];
    const created: string[] = [];
    let stop = false;
    let seq = 0;
    let lastOkAt = 0;
    const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);

    const one = async (): Promise<void> => {
      const n = seq++;
      const kind = n % 3;
      const started = Date.now();
      try {
        const r = kind === 0
          ? await fetch(`${base}/Users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: [USER], userName: `load${n}@example.com` }), signal: AbortSignal.timeout(20_000) })
          : await fetch(`${base}/Users?filter=${encodeURIComponent(`userName eq "load${n - 1}@example.com"`)}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });
        const text = await r.text();
        count(String(r.status));
        if (r.status < 300) lastOkAt = Date.now();
        if (r.status === 201) created.push(`load${n}@example.com`);
        if (r.status >= 500) {
          const b = JSON.parse(text);
          if (r.status !== 503) problems.push(`${r.status}: ${text.slice(0, 300)}`);
          else if (!b.schemas?.includes(ERROR) || b.status !== '503' || typeof b.detail !== 'string') problems.push(`503 not in SCIM format: ${text.slice(0, 300)}`);
        } else if (r.status >= 400 && r.status !== 409) problems.push(`${r.status}: ${text.slice(0, 300)}`);
      } catch (err) {
        const e = err as Error;
        problems.push(`${e.name === 'TimeoutError' ? 'HANG' : 'network error'} after ${Date.now() - started} ms: ${e.message}`);
        count('error');
      }
    };
    const workers = Array.from({ length: 8 }, async () => { while (!stop) await one(); });

    const ready: Array<[number, number]> = [];
    const poller = (async () => {
      while (!stop) {
        try {
          const r = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
          if (ready.length === 0 || ready[ready.length - 1]![1] !== r.status) ready.push([Date.now(), r.status]);
        } catch (err) {
          problems.push(`/readyz: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await new Promise((r) => setTimeout(r, 2000));
    const before = statuses.get('201') ?? 0;
    assert.ok(before > 0, 'load is running');
    const t0 = Date.now();
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version!, 'main', 'restart'], { timeout: 120_000 });
    const restartedIn = Date.now() - t0;
    // Recovery: a successful request within 20 s of the cluster being back, without touching idpbridge.
    const deadline = Date.now() + 20_000;
    while (lastOkAt < t0 + restartedIn && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const recoveredAfter = lastOkAt - (t0 + restartedIn);
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await Promise.all([...workers, poller]);

    const errorsLogged = () => server.output().split('\n').filter((l) => !l.includes('"level":30')).join('\n').slice(-4000);
    assert.equal(server.child.exitCode, null, `idpbridge is still running; its last output:\n${errorsLogged()}`);
    assert.ok(lastOkAt >= t0 + restartedIn, `no successful request within 20 s of PostgreSQL being back (statuses ${JSON.stringify([...statuses])})`);
    assert.deepEqual(problems.slice(0, 20), [], `requests that did not fail cleanly:\n${problems.slice(0, 20).join('\n')}`);
    assert.ok((statuses.get('503') ?? 0) > 0, `some requests met the outage: ${JSON.stringify([...statuses])}`);
    assert.ok(ready.some(([, s]) => s === 503), `/readyz turned 503: ${JSON.stringify(ready)}`);
    assert.equal(ready[ready.length - 1]![1], 200, `/readyz is 200 again: ${JSON.stringify(ready)}`);
    // Every write acknowledged with 201 is there.
    for (let i = 0; i < created.length; i += 50) {
      const names = created.slice(i, i + 50);
      const filter = names.map((u) => `userName eq "${u}"`).join(' or ');
      const r = await fetch(`${base}/.search`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter, count: 100 }) });
      assert.equal((await r.json() as any).totalResults, names.length);
    }
    console.log(`# postgres restart: cluster ${version} restarted in ${restartedIn} ms; first success ${recoveredAfter} ms after; statuses ${JSON.stringify(Object.fromEntries(statuses))}; readyz ${ready.map(([, s]) => s).join('→')}; ${created.length} acknowledged creates all present`);
  } finally {
    await server.kill();
  }
});
