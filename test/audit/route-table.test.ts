// Every state-changing route of the admin API and the console's session API has an entry in the
// audit catalogue (src/audit/catalogue.ts), read from the routes the app really registers: a new
// route without one fails here. And the table's actions are what those routes record.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_RULES, isAuditedUrl, WRITE_METHODS } from '../../src/audit/catalogue.js';
import { startTestApp, testDatabases, type TestApp } from '../helpers/app.js';

/** Every method + URL the app routes, from fastify's own route tree (printRoutes). */
function registeredRoutes(printed: string): { method: string; url: string }[] {
  const stack: string[] = [];
  const out: { method: string; url: string }[] = [];
  for (const line of printed.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (depth > 0 ? stack[depth - 1]! : '') + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) out.push({ method, url: path });
  }
  return out;
}

let t: TestApp;
// The routes do not depend on the database: one is enough.
before(async () => { t = await startTestApp(testDatabases().at(-1)!); });
after(async () => { await t.close(); });

test('route table: every state-changing admin and console route has its audit entry in the catalogue', () => {
  const routes = registeredRoutes(t.app.printRoutes({ commonPrefix: false }));
  assert.ok(routes.length > 50, `parsed the route tree (${routes.length} routes)`);
  const writes = routes.filter((r) => WRITE_METHODS.has(r.method) && isAuditedUrl(r.url));
  assert.ok(writes.some((r) => r.url === '/admin/v1/tenants' && r.method === 'POST'), 'the parse finds POST /admin/v1/tenants');
  const known = new Map(Object.keys(AUDIT_RULES).map((k) => [k.toLowerCase(), k]));
  const missing = writes.filter((r) => !known.has(`${r.method} ${r.url}`.toLowerCase())).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(missing, [], `state-changing routes without an audit catalogue entry (add them to src/audit/catalogue.ts and docs/audit.md):\n${missing.join('\n')}`);
  const registered = new Set(writes.map((r) => `${r.method} ${r.url}`.toLowerCase()));
  const stale = [...known.keys()].filter((k) => !registered.has(k)).map((k) => known.get(k));
  assert.deepEqual(stale, [], 'catalogue entries for routes the app no longer has');
  for (const [key, rule] of Object.entries(AUDIT_RULES)) {
    if (rule.action === null) assert.ok(rule.why, `${key}: a route recording nothing says why`);
    else assert.match(rule.action, /^[a-z_]+\.[a-z_]+$/, `${key}: action names are resource.verb`);
  }
});

test('route table: docs/audit.md lists every action of the catalogue', async () => {
  const { readFile } = await import('node:fs/promises');
  const doc = await readFile(new URL('../../docs/audit.md', import.meta.url), 'utf8');
  const actions = new Set(Object.values(AUDIT_RULES).map((r) => r.action).filter((a): a is string => a !== null));
  for (const a of [...actions, 'admin.auth_refused', 'console.sign_in_refused']) assert.ok(doc.includes(`\`${a}\``), `docs/audit.md names ${a}`);
});
