/**
 * Crash during an initial sync: an Entra-style IdP (probe with a filter, then create; groups
 * created with members) syncs into a real server process, which is SIGKILLed part-way through.
 * The server is restarted on the same database and the IdP replays what it would retry (the
 * whole cycle, probe-then-create/patch). The final state equals the expected state: every user
 * once, every group once with exactly its members. PGlite (data dir) and PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, eachDatabase } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const N_USERS = Number(process.env.SOAK_USERS ?? 400);
const N_GROUPS = 12;
const PER_GROUP = 25;

class Client {
  constructor(public base: string, private token: string) {}
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'user-agent': 'Azure AD SCIM Client', ...(body ? { 'content-type': 'application/scim+json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  }
}

const userName = (i: number) => `sync.user${i}@contoso.example`;
const groupName = (g: number) => `Sync Group ${g}`;
const membersOf = (g: number) => Array.from({ length: PER_GROUP }, (_, k) => (g * 7 + k * 13) % N_USERS);

/** One Entra sync cycle; returns how many operations failed (connection errors, 5xx): those are retried next cycle. */
async function syncCycle(c: Client, onProgress?: (done: number) => void): Promise<number> {
  let failed = 0;
  const ids = new Map<number, string>();
  const guard = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      failed++;
      return undefined;
    }
  };
  // Users, 8 at a time (Entra runs several threads).
  for (let i = 0; i < N_USERS; i += 8) {
    onProgress?.(i);
    await Promise.all(Array.from({ length: Math.min(8, N_USERS - i) }, async (_, j) => {
      const n = i + j;
      await guard(async () => {
        const probe = await c.call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName(n)}"`)}`);
        if (probe.status >= 500) throw new Error(String(probe.status));
        if (probe.body.totalResults > 0) {
          ids.set(n, probe.body.Resources[0].id);
          return;
        }
        const created = await c.call('POST', '/Users', { schemas: [USER], userName: userName(n), externalId: `oid-${n}`, active: true, displayName: `User ${n}` });
        if (created.status === 201) ids.set(n, created.body.id);
        else if (created.status === 409) {
          // Created by a request whose answer was lost in the crash: probe again next cycle.
          throw new Error('409');
        } else throw new Error(`${created.status}`);
      });
    }));
  }
  // Groups: probe by displayName, create with members, or add the missing members.
  for (let g = 0; g < N_GROUPS; g++) {
    await guard(async () => {
      const members = membersOf(g).map((n) => ids.get(n)).filter((x): x is string => !!x);
      const probe = await c.call('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${groupName(g)}"`)}`);
      if (probe.status >= 500) throw new Error(String(probe.status));
      if (probe.body.totalResults === 0) {
        const r = await c.call('POST', '/Groups', { schemas: [GROUP], displayName: groupName(g), externalId: `gid-${g}`, members: members.map((value) => ({ value })) });
        if (r.status !== 201) throw new Error(String(r.status));
      } else {
        const r = await c.call('PATCH', `/Groups/${probe.body.Resources[0].id}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: members.map((value) => ({ value })) }] });
        if (r.status >= 300) throw new Error(String(r.status));
      }
      if (members.length < PER_GROUP) throw new Error('members missing; retry');
    });
  }
  return failed;
}

eachDatabase((kind) => {
  test(`SIGKILL during an initial sync, restart, replay → exact final state, no duplicates`, { timeout: 600_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'idpb-crash-'));
    const env = {
      IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '0', IDPBRIDGE_WORKER: 'off',
      ...(kind === 'postgres' ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : { DATABASE_URL: '', IDPBRIDGE_DATA_DIR: dataDir }),
    };
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess(env, 60_000);
      const admin = async (url: string, body: unknown) => {
        const r = await fetch(`${server!.url}/admin/v1${url}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        assert.ok(r.ok);
        return r.json() as Promise<any>;
      };
      const tenant = await admin('/tenants', { name: 'crash' });
      const token = (await admin(`/tenants/${tenant.id}/scim-tokens`, {})).token as string;
      const path = `/scim/v2/${tenant.id}`;
      const c = new Client(`${server.url}${path}`, token);

      // Kill the server with SIGKILL when ~40% of the users are through.
      let killed = false;
      const victim = server;
      const firstFailures = await syncCycle(c, (done) => {
        if (!killed && done >= N_USERS * 0.4) {
          killed = true;
          // While this batch's probes and creates are in flight.
          setTimeout(() => victim.child.kill('SIGKILL'), 3);
        }
      });
      assert.ok(killed, 'the server was killed mid-sync');
      if (victim.child.signalCode === null) await new Promise((r) => victim.child.once('exit', r));
      assert.ok(firstFailures > 0, 'requests failed while the server was down');
      assert.equal(victim.child.signalCode, 'SIGKILL');

      // Restart on the same data and replay until the IdP sees no failure.
      server = await startServerProcess(env, 60_000);
      c.base = `${server.url}${path}`;
      let cycles = 0;
      for (;;) {
        cycles++;
        const failures = await syncCycle(c);
        if (failures === 0) break;
        assert.ok(cycles < 5, `still failing after ${cycles} replays: ${failures}`);
      }

      // Final state: every user exactly once, every group once with exactly its members.
      const users = await c.call('GET', '/Users?count=1000&attributes=userName');
      assert.equal(users.body.totalResults, N_USERS);
      const names = users.body.Resources.map((u: { userName: string }) => u.userName);
      assert.equal(new Set(names).size, N_USERS, 'no duplicate users');
      assert.deepEqual([...names].sort(), Array.from({ length: N_USERS }, (_, i) => userName(i)).sort());
      const byName = new Map<string, string>(users.body.Resources.map((u: { id: string; userName: string }) => [u.userName, u.id]));
      const groups = await c.call('GET', '/Groups?count=1000');
      assert.equal(groups.body.totalResults, N_GROUPS, 'no duplicate groups');
      for (let g = 0; g < N_GROUPS; g++) {
        const found = groups.body.Resources.find((x: { displayName: string }) => x.displayName === groupName(g));
        assert.ok(found, groupName(g));
        const expected = new Set(membersOf(g).map((n) => byName.get(userName(n))));
        assert.deepEqual(new Set((found.members ?? []).map((m: { value: string }) => m.value)), expected, `${groupName(g)} members`);
      }
      assert.ok(!/"level":(5\d|60)/.test(server.output()), `errors logged after the restart:\n${server.output().slice(-3000)}`);
      console.log(`# [${kind}] crash: killed at ~40% of ${N_USERS} users; ${firstFailures} IdP operations failed; ${cycles} replay cycle(s) to converge`);
    } finally {
      await server?.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
