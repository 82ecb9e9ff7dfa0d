/**
 * Unit tests for the conformance runner itself (no idpbridge server needed): matcher rules,
 * variable substitution, query encoding, captures, error reporting, and a static lint of
 * every fixture file (shape, matcher syntax, every {{var}} seeded or captured earlier).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  encodeRequestPath, fixtureNames, getPath, lintFixture, loadFixture, match, parsePath,
  replayFixture, ReplayError, seedVars, substitute, type Fixture,
} from './replay.js';

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** A deliberately tiny SCIM-ish server: enough to drive the runner through real HTTP semantics. */
function stubApp(opts: { contentType?: string } = {}): FastifyInstance {
  const app = Fastify();
  const ct = opts.contentType ?? 'application/scim+json; charset=utf-8';
  const users = new Map<string, Record<string, unknown>>();
  let seq = 0;
  const seen: string[] = [];
  app.decorate('seenUrls', seen);
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string' }, (_req, body, done) => {
    try { done(null, JSON.parse(body as string)); } catch (e) { (e as { statusCode?: number }).statusCode = 400; done(e as Error, undefined); }
  });
  const base = '/scim/v2/t1';
  app.setErrorHandler(async (e: Error & { statusCode?: number }, _req, reply) => {
    await reply.code(e.statusCode ?? 500).type(ct).send({ schemas: [ERR], status: String(e.statusCode ?? 500), scimType: 'invalidSyntax', detail: e.message });
  });
  app.addHook('onRequest', async (req, reply) => {
    seen.push(req.url);
    if (req.headers.authorization !== 'Bearer secret') {
      await reply.code(401).type(ct).send({ schemas: [ERR], status: '401', detail: 'no' });
    }
  });
  const view = (u: Record<string, unknown>) => ({ schemas: [USER], ...u, meta: { resourceType: 'User', location: `http://x${base}/Users/${String(u.id)}` } });
  app.post(`${base}/Users`, async (req, reply) => {
    const b = req.body as Record<string, unknown>;
    const name = String(b.userName ?? '');
    if ([...users.values()].some((u) => String(u.userName).toLowerCase() === name.toLowerCase())) {
      return reply.code(409).type(ct).send({ schemas: [ERR], status: '409', scimType: 'uniqueness', detail: 'exists' });
    }
    const { password: _pw, schemas: _s, ...rest } = b;
    const u = { ...rest, id: `u${++seq}` };
    users.set(u.id, u);
    return reply.code(201).type(ct).send(view(u));
  });
  app.get(`${base}/Users`, async (req, reply) => {
    const q = req.query as Record<string, string>;
    let list = [...users.values()];
    const m = /^userName eq "(.*)"$/.exec(q.filter ?? '');
    if (m) list = list.filter((u) => String(u.userName).toLowerCase() === (m[1] ?? '').toLowerCase());
    const start = Number(q.startIndex ?? 1);
    const count = Number(q.count ?? 100);
    const page = list.slice(start - 1, start - 1 + count);
    return reply.type(ct).send({ schemas: [LIST], totalResults: list.length, startIndex: start, itemsPerPage: page.length, Resources: page.map(view) });
  });
  app.get(`${base}/Users/:id`, async (req, reply) => {
    const u = users.get((req.params as { id: string }).id);
    if (!u) return reply.code(404).type(ct).send({ schemas: [ERR], status: '404', detail: 'not found' });
    return reply.type(ct).send(view(u));
  });
  app.patch(`${base}/Users/:id`, async (req, reply) => {
    const u = users.get((req.params as { id: string }).id);
    if (!u) return reply.code(404).type(ct).send({ schemas: [ERR], status: '404', detail: 'not found' });
    for (const op of (req.body as { Operations: { path?: string; value: unknown }[] }).Operations) {
      if (op.path) u[op.path] = op.value === 'False' ? false : op.value === 'True' ? true : op.value;
      else Object.assign(u, op.value);
    }
    return reply.code(204).send();
  });
  app.delete(`${base}/Users/:id`, async (req, reply) => {
    users.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
  return app;
}

const ctx = (app: FastifyInstance) => ({ app, scimBase: '/scim/v2/t1', token: 'secret' });

describe('matcher', () => {
  it('matches objects by subset and primitives strictly', () => {
    assert.equal(match({ a: 1 }, { a: 1, b: 2 }, ''), null);
    assert.match(match({ a: 1 }, { a: '1' }, '') ?? '', /a: expected 1, got "1"/);
    assert.match(match({ status: '404' }, { status: 404 }, '') ?? '', /status/);
    assert.match(match({ a: { b: true } }, { a: {} }, '') ?? '', /a\.b: expected true, got undefined/);
  });
  it('matches arrays by exact length and order', () => {
    assert.equal(match([{ v: 1 }, { v: 2 }], [{ v: 1, x: 0 }, { v: 2 }], ''), null);
    assert.match(match([{ v: 1 }], [{ v: 1 }, { v: 2 }], 'members') ?? '', /members: expected an array of length 1, got length 2/);
    assert.notEqual(match([{ v: 2 }, { v: 1 }], [{ v: 1 }, { v: 2 }], ''), null);
    assert.equal(match([], [], ''), null);
  });
  it('supports directives', () => {
    assert.equal(match({ $contains: ['b'] }, ['a', 'b'], ''), null);
    assert.notEqual(match({ $contains: ['c'] }, ['a', 'b'], ''), null);
    assert.equal(match({ $unordered: [{ value: 'b' }, { value: 'a' }] }, [{ value: 'a' }, { value: 'b' }], ''), null);
    assert.notEqual(match({ $unordered: [{ value: 'a' }] }, [{ value: 'a' }, { value: 'b' }], ''), null);
    assert.notEqual(match({ $unordered: [{ value: 'a' }, { value: 'a' }] }, [{ value: 'a' }, { value: 'b' }], ''), null);
    assert.equal(match({ $endsWith: '/Users/1' }, 'https://h/scim/v2/t/Users/1', ''), null);
    assert.equal(match({ $type: 'number', $gte: 2 }, 3, ''), null);
    assert.notEqual(match({ $type: 'number' }, '3', ''), null);
    assert.equal(match({ $absent: true }, null, ''), null);
    assert.equal(match({ $absent: true }, undefined, ''), null);
    assert.equal(match({ $notEmpty: true }, false, ''), null);
    assert.notEqual(match({ $notEmpty: true }, [], ''), null);
    assert.equal(match({ $eq: [] }, [], ''), null);
    assert.notEqual(match({ $eq: { a: 1 } }, { a: 1, b: 2 }, ''), null);
    assert.equal(match({ $notIn: ['a', 'b'] }, 'c', ''), null);
    assert.equal(match({ $oneOf: [{ $absent: true }, { $length: 0 }] }, [], ''), null);
    assert.equal(match({ $regex: '^application/scim\\+json' }, 'application/scim+json; charset=utf-8', ''), null);
    assert.throws(() => match({ $nope: 1 }, 1, ''), /unknown matcher directive/);
    assert.throws(() => match({ $length: 1, a: 1 }, 1, ''), /mixes/);
  });
  it('addresses URN keys in mismatch paths', () => {
    const r = match({ 'urn:x:2.0:User': { manager: { value: 'm' } } }, { 'urn:x:2.0:User': {} }, '');
    assert.match(r ?? '', /\["urn:x:2\.0:User"\]\.manager/);
  });
});

describe('paths, variables, encoding', () => {
  it('parses dotted, indexed and quoted paths', () => {
    assert.deepEqual(parsePath('Resources[0].emails[1].value'), ['Resources', 0, 'emails', 1, 'value']);
    assert.deepEqual(parsePath('["urn:a:2.0:User"].manager.value'), ['urn:a:2.0:User', 'manager', 'value']);
    assert.equal(getPath({ a: [{ b: 'x' }] }, 'a[0].b'), 'x');
    assert.equal(getPath({ a: 1 }, 'a.b.c'), undefined);
  });
  it('substitutes vars with functions and $guid', () => {
    const v = { u: 'Ab@x.io' };
    assert.equal(substitute('{{u}}|{{upper:u}}|{{lower:u}}|{{enc:u}}', v), 'Ab@x.io|AB@X.IO|ab@x.io|Ab%40x.io');
    const g1 = substitute('{{$guid}}', v);
    assert.match(g1, /^[0-9a-f-]{36}$/);
    assert.notEqual(g1, substitute('{{$guid}}', v));
    assert.throws(() => substitute('{{missing}}', v), /unknown variable \{\{missing\}\}/);
  });
  it('encodes raw query values and leaves pre-encoded ones alone', () => {
    assert.equal(encodeRequestPath('/Users?filter=userName eq "a b"&count=2'), '/Users?filter=userName%20eq%20%22a%20b%22&count=2');
    assert.equal(encodeRequestPath('/Users/?filter=DisplayName+eq+%22Bob%22'), '/Users/?filter=DisplayName+eq+%22Bob%22');
    assert.equal(encodeRequestPath('/Groups/1'), '/Groups/1');
  });
  it('seeds distinct random values per call', () => {
    const a = seedVars();
    const b = seedVars();
    assert.notEqual(a.userName, b.userName);
    assert.equal(a.randomUsername, a.randomEmail);
    assert.equal(a.randomUsernameCaps?.toLowerCase(), a.randomUsername?.toLowerCase());
  });
});

describe('replayFixture against a stub fastify app', () => {
  let app: FastifyInstance;
  before(async () => { app = stubApp(); await app.ready(); });
  after(async () => { await app.close(); });

  const happy: Fixture = [
    { name: 'probe', source: 'test', request: { method: 'GET', path: '/Users?filter=userName eq "{{userName}}"' },
      expect: { status: 200, body: { schemas: [LIST], totalResults: 0, Resources: [] } } },
    { name: 'create', source: 'test', request: { method: 'POST', path: '/Users', body: { schemas: [USER], userName: '{{userName}}', password: 'pw', active: true } },
      expect: { status: 201, body: { id: '{{uid}}', userName: '{{userName}}', meta: { resourceType: 'User', location: { $endsWith: '/Users/{{uid}}' } } }, absent: ['password'] },
      capture: { uid: 'id' } },
    { name: 'dup differs in case', source: 'test', request: { method: 'POST', path: '/Users', body: { userName: '{{upper:userName}}' } },
      expect: { status: 409, body: { schemas: [ERR], status: '409', scimType: 'uniqueness' } } },
    { name: 'disable with "False"', source: 'test', request: { method: 'PATCH', path: '/Users/{{uid}}', body: { Operations: [{ op: 'Replace', path: 'active', value: 'False' }] } },
      expect: { status: [200, 204], body: { active: false } } },
    { name: 'get', source: 'test', request: { method: 'GET', path: '/Users/{{uid}}' },
      expect: { status: 200, paths: { active: false, 'meta.resourceType': 'User' } } },
    { name: 'delete', source: 'test', request: { method: 'DELETE', path: '/Users/{{uid}}' }, expect: { status: 204 } },
    { name: '404', source: 'test', request: { method: 'GET', path: '/Users/{{uid}}' }, expect: { status: 404, body: { status: '404' } } },
  ];

  it('runs a passing fixture, capturing ids and skipping body checks on an allowed 204', async () => {
    const { vars, results } = await replayFixture(happy, ctx(app));
    assert.match(vars.uid ?? '', /^u\d+$/);
    assert.equal(results.length, happy.length);
    assert.equal(results[3]?.status, 204);
  });

  it('reports the first mismatch with step name, request and response body', async () => {
    const bad: Fixture = [
      happy[1] as Fixture[number],
      { name: 'wrong expectation', source: 'Doc › Section', request: { method: 'GET', path: '/Users/{{uid}}' },
        expect: { status: 200, body: { userName: 'someone-else' } } },
      { name: 'never reached', source: 'x', request: { method: 'GET', path: '/nope' }, expect: { status: 200 } },
    ];
    await assert.rejects(replayFixture(bad, ctx(app)), (e: unknown) => {
      assert.ok(e instanceof ReplayError);
      assert.equal(e.stepIndex, 1);
      assert.match(e.message, /step 2\/3 "wrong expectation" failed: body mismatch at userName: expected "someone-else"/);
      assert.match(e.message, /source: {3}Doc › Section/);
      assert.match(e.message, /request: {2}GET \/scim\/v2\/t1\/Users\/u\d+/);
      assert.match(e.message, /"userName":"Test_User_/);
      assert.match(e.message, /Bearer secret…|Bearer secret/);
      return true;
    });
  });

  it('fails on status, array length, absent paths and text checks', async () => {
    const base = (expect: Fixture[number]['expect']): Fixture => [
      { name: 'create', source: 's', request: { method: 'POST', path: '/Users', body: { userName: '{{userName}}', emails: [{ value: 'a' }] } }, expect: { status: 201 }, capture: { uid: 'id' } },
      { name: 'check', source: 's', request: { method: 'GET', path: '/Users/{{uid}}' }, expect },
    ];
    await assert.rejects(replayFixture(base({ status: 201 }), ctx(app)), /status 200, expected 201/);
    await assert.rejects(replayFixture(base({ status: 200, body: { emails: [] } }), ctx(app)), /emails: expected an array of length 0, got length 1/);
    await assert.rejects(replayFixture(base({ status: 200, absent: ['emails'] }), ctx(app)), /emails must be absent/);
    await assert.rejects(replayFixture(base({ bodyContains: ['zzz'] }), ctx(app)), /does not contain "zzz"/);
    await assert.rejects(replayFixture(base({ bodyNotContains: ['{{userName}}'] }), ctx(app)), /must not contain/);
    await assert.rejects(replayFixture(base({ status: 200, headers: { 'content-type': { $regex: '^text/' } } }), ctx(app)), /header content-type/);
  });

  it('sends the step headers verbatim (Authorization override) and rawBody as is', async () => {
    const f: Fixture = [
      { name: '401', source: 's', request: { method: 'GET', path: '/Users', headers: { Authorization: 'non-token' } },
        expect: { status: 401, paths: { status: '401' }, bodyContains: [ERR] } },
      { name: 'auth var', source: 's', request: { method: 'GET', path: '/Users', headers: { Authorization: '{{auth}}' } }, expect: { status: 200 } },
      { name: 'junk', source: 's', request: { method: 'POST', path: '/Users', headers: { 'Content-Type': 'application/json' }, rawBody: '{"acve": tre' },
        expect: { status: 400 }, },
    ];
    await replayFixture(f, { ...ctx(app), fail5xx: true });
  });

  it('encodes filters on the wire', async () => {
    const seen = (app as unknown as { seenUrls: string[] }).seenUrls;
    seen.length = 0;
    await replayFixture([{ name: 'q', source: 's', request: { method: 'GET', path: '/Users?filter=userName eq "{{userName}}"&startIndex=1&count=100' }, expect: { status: 200 } }], ctx(app));
    assert.match(seen[0] ?? '', /^\/scim\/v2\/t1\/Users\?filter=userName%20eq%20%22Test_User_[^&]+%22&startIndex=1&count=100$/);
  });

  it('requires application/scim+json on responses with a body', async () => {
    const plain = stubApp({ contentType: 'application/json' });
    try {
      await assert.rejects(replayFixture([{ name: 'list', source: 's', request: { method: 'GET', path: '/Users' }, expect: { status: 200 } }], ctx(plain)),
        /Content-Type "application\/json; charset=utf-8", expected application\/scim\+json/);
      await replayFixture([{ name: 'list', source: 's', request: { method: 'GET', path: '/Users' }, expect: { status: 200, scimContentType: false } }], ctx(plain));
    } finally {
      await plain.close();
    }
  });

  it('fails unknown variables before sending', async () => {
    await assert.rejects(replayFixture([{ name: 'v', source: 's', request: { method: 'GET', path: '/Users/{{nope}}' }, expect: { status: 200 } }], ctx(app)),
      /step 1\/1 "v": unknown variable \{\{nope\}\}/);
  });
});

describe('fixture files', () => {
  const names = fixtureNames();
  it('exist for every suite', () => {
    for (const n of ['entra-users', 'entra-groups', 'entra-microsoft-postman', 'okta-users', 'okta-groups', 'okta-runscope-spec-test']) {
      assert.ok(names.includes(n), `missing fixture ${n}`);
    }
  });
  for (const name of names) {
    it(`${name} is well-formed (shape, matchers, variables)`, () => {
      const problems = lintFixture(loadFixture(name), Object.keys(seedVars()));
      assert.deepEqual(problems, []);
    });
  }
});
