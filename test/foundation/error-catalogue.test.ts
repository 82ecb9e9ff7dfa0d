/**
 * The error catalogue is a contract (docs/errors.md): the page and the tables in the source agree,
 * no code in src/ is missing from them (or built at run time), and the wire shapes are the
 * documented ones.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_ERROR_CODES } from '../../src/http/errors.js';
import { SCIM_ERROR_CODES } from '../../src/scim/errors.js';
import { IDENTITY_ERROR_STATUS, IdentityError } from '../../src/access/identities.js';
import { eachDatabase, startTestApp } from '../helpers/app.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');

/**
 * Codes that never reach an HTTP answer, each with why (docs/errors.md lists them too).
 * ERR_DATA_DIR_LOCKED: the CLI and `serve` refuse a PGlite data directory another process holds.
 * ERR_SECRET_KEY: a malformed installation key, or a stored secret that does not decrypt (start-up; 500 in a request).
 */
const PROCESS_ERROR_CODES = ['ERR_DATA_DIR_LOCKED', 'ERR_SECRET_KEY'];

/** `| \`CODE\` | status | third column |` rows of one section of docs/errors.md. */
function docRows(section: string): Map<string, { status: string; third: string }> {
  const parts = doc.split(/^## /m);
  const text = parts.find((p) => p.startsWith(section));
  assert.ok(text, `docs/errors.md has no section "## ${section}…"`);
  const rows = new Map<string, { status: string; third: string }>();
  for (const m of text.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| ([^|]+?) \| ([^|]*?) \|/gm)) {
    assert.ok(!rows.has(m[1]!), `docs/errors.md lists ${m[1]} twice in "${section}"`);
    rows.set(m[1]!, { status: m[2]!.trim(), third: m[3]!.trim() });
  }
  return rows;
}

function sameCodes(where: string, documented: Map<string, { status: string }>, table: Record<string, { status: number | string }>): void {
  const missingInDoc = Object.keys(table).filter((c) => !documented.has(c));
  const missingInTable = [...documented.keys()].filter((c) => !(c in table));
  assert.deepEqual(missingInDoc, [], `${where}: codes of the source table missing from docs/errors.md`);
  assert.deepEqual(missingInTable, [], `${where}: codes in docs/errors.md that the source table does not have`);
  const otherStatus = Object.entries(table)
    .filter(([c, v]) => documented.get(c)!.status !== String(v.status))
    .map(([c, v]) => `${c}: source ${v.status}, docs ${documented.get(c)!.status}`);
  assert.deepEqual(otherStatus, [], `${where}: statuses differ between the source table and docs/errors.md`);
}

describe('error catalogue: docs/errors.md and the source tables', () => {
  test('the non-SCIM family: every code of API_ERROR_CODES with the same status, nothing else', () => {
    sameCodes('non-SCIM family', docRows('The non-SCIM family'), API_ERROR_CODES);
  });

  test('the SCIM family: every code of SCIM_ERROR_CODES with the same status and scimType, nothing else', () => {
    const rows = docRows('The SCIM family');
    sameCodes('SCIM family', rows, SCIM_ERROR_CODES);
    for (const [code, v] of Object.entries(SCIM_ERROR_CODES)) {
      const scimType = 'scimType' in v ? `\`${v.scimType}\`` : '—';
      assert.equal(rows.get(code)!.third, scimType, `${code}: scimType in docs/errors.md`);
    }
  });

  test('codes outside HTTP are listed too', () => {
    assert.deepEqual([...docRows('Outside HTTP').keys()].sort(), [...PROCESS_ERROR_CODES].sort());
  });

  test('every catalogued status is an HTTP error status; the code fixes it', () => {
    for (const [code, v] of Object.entries(API_ERROR_CODES)) assert.ok(v.status >= 400 && v.status <= 599, code);
    // The access model sits below src/http and states its codes' statuses itself: they must be the catalogue's.
    for (const [code, status] of Object.entries(IDENTITY_ERROR_STATUS)) {
      assert.equal(status, API_ERROR_CODES[code as keyof typeof API_ERROR_CODES].status, code);
      assert.equal(new IdentityError(code as keyof typeof IDENTITY_ERROR_STATUS, 'x').statusCode, status, code);
    }
  });
});

const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  if (statSync(p).isDirectory()) return walk(p);
  return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
});

/** The text of a source file without its comments (a code named in a comment is not a use). */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[\s;{}(),])\/\/.*$/gm, '$1');

describe('error catalogue: src/ uses only catalogued codes', () => {
  const files = walk(join(root, 'src'));
  const uses: { code: string; where: string }[] = [];
  const built: string[] = [];
  for (const f of files) {
    const text = withoutComments(readFileSync(f, 'utf8'));
    const where = (i: number) => `src/${relative(join(root, 'src'), f)}:${text.slice(0, i).split('\n').length}`;
    for (const m of text.matchAll(/(['"`])(ERR_[A-Za-z0-9_]*)(\$\{)?/g)) {
      if (m[3] || m[1] === '`' && !text.startsWith(`${m[2]}\``, m.index! + 1)) built.push(`${where(m.index!)}: ${m[0]}…`);
      else uses.push({ code: m[2]!, where: where(m.index!) });
    }
  }

  test('the scan finds the codes it should (the checker itself works)', () => {
    assert.ok(uses.length > 30, `only ${uses.length} ERR_ literals found in src/`);
    assert.ok(uses.some((u) => u.code === 'ERR_READ_ONLY_IDENTITY'));
    assert.ok(uses.some((u) => u.code === 'ERR_SCIM_UNSUPPORTED_MEDIA_TYPE'));
  });

  test('no ERR_ literal in src/ is missing from the catalogues', () => {
    const known = new Set([...Object.keys(API_ERROR_CODES), ...Object.keys(SCIM_ERROR_CODES), ...PROCESS_ERROR_CODES]);
    const unknown = uses.filter((u) => !known.has(u.code)).map((u) => `${u.where}: ${u.code}`);
    assert.deepEqual(unknown, [], 'codes used in src/ that neither docs/errors.md nor the source tables list');
  });

  test('no code is built at run time', () => {
    assert.deepEqual(built, [], 'ERR_ codes assembled from a template: use a catalogued literal');
  });
});

eachDatabase((kind) => {
  describe('error catalogue: the wire shapes', () => {
    const apiShape = (r: { statusCode: number; json(): any; headers: Record<string, unknown> }, code: keyof typeof API_ERROR_CODES) => {
      const body = r.json();
      assert.equal(r.statusCode, API_ERROR_CODES[code].status, JSON.stringify(body));
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
      assert.equal(body.statusCode, r.statusCode);
      assert.equal(body.code, code);
      assert.equal(typeof body.message, 'string');
      assert.ok(body.message.length > 0);
      return body;
    };

    test('an ApiError, an access-model refusal and a console-account refusal answer with their catalogued code', async () => {
      const t = await startTestApp(kind);
      try {
        const auth = { authorization: `Bearer ${t.adminToken}` };
        const tenant = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants/00000000-0000-4000-8000-000000000000', headers: auth });
        assert.equal(apiShape(tenant, 'ERR_NOT_FOUND').error, 'Not Found');

        const identity = await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${t.tenantId}/users/00000000-0000-4000-8000-000000000000`, headers: auth });
        assert.equal(apiShape(identity, 'ERR_NOT_FOUND').message, 'identity not found');

        const created = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: auth, payload: { userName: 'dup@example.com' } });
        assert.equal(created.statusCode, 201, created.body);
        const dup = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: auth, payload: { userName: 'DUP@example.com' } });
        assert.equal(apiShape(dup, 'ERR_CONFLICT').error, 'Conflict');

        const weak = await t.app.inject({
          method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/console-accounts`, headers: auth,
          payload: { login: 'same-as-password', password: 'same-as-password' },
        });
        apiShape(weak, 'ERR_BAD_REQUEST');

        const unauthorized = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: { authorization: 'Bearer wrong' } });
        apiShape(unauthorized, 'ERR_UNAUTHORIZED');
      } finally {
        await t.close();
      }
    });

    test('framework errors answer in the same shape with the code of their status; on SCIM routes as SCIM errors', async () => {
      const t = await startTestApp(kind);
      try {
        const auth = { authorization: `Bearer ${t.adminToken}` };
        const badJson = await t.app.inject({
          method: 'POST', url: '/admin/v1/tenants', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name": ',
        });
        assert.equal(apiShape(badJson, 'ERR_BAD_REQUEST').error, 'Bad Request');

        const schema = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: auth, payload: { name: 'x', extra: true } });
        apiShape(schema, 'ERR_VALIDATION');

        const mediaType = await t.app.inject({
          method: 'POST', url: '/admin/v1/tenants', headers: { ...auth, 'content-type': 'text/csv' }, payload: 'name\nx',
        });
        apiShape(mediaType, 'ERR_UNSUPPORTED_MEDIA_TYPE');

        const longId = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${'a'.repeat(300)}`, headers: auth });
        apiShape(longId, 'ERR_URI_TOO_LONG');

        const route = await t.app.inject({ method: 'GET', url: '/admin/v1/no-such-route', headers: auth });
        apiShape(route, 'ERR_NOT_FOUND');

        const scim = await t.app.inject({
          method: 'POST', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': 'text/csv' }, payload: 'userName\nx',
        });
        assert.equal(scim.statusCode, 415);
        assert.match(String(scim.headers['content-type']), /^application\/scim\+json/);
        assert.deepEqual(scim.json(), {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '415',
          detail: 'Content-Type must be application/scim+json or application/json',
        });
      } finally {
        await t.close();
      }
    });
  });
});
