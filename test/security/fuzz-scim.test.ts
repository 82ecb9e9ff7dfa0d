/**
 * Property-based fuzzing of every SCIM endpoint (fast-check). Every answer must be a 4xx in the
 * SCIM error format (or a 2xx when the input happens to be valid), never a 5xx; a rejected
 * request changes nothing; nothing is logged at level error; the app keeps answering.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { scimClient, USER, GROUP, PATCH } from '../scim/helpers.js';
import { captureLogs, Findings, scimProblem, show, tenantSnapshotter, UnchangedChecker } from './helpers.js';
import { anyJson, hostileFilter, nastyString, patchOp, pathArb, rawBody, valueFor, deepArray, deepObject, toJson } from './arbitraries.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

eachDatabase((kind) => {
  let t: TestApp;
  const logs = captureLogs();
  const findings = new Findings();
  let snap: (tenantId: string) => Promise<Record<string, string>>;
  let userId = '';
  let groupId = '';
  let memberIds: string[] = [];

  before(async () => {
    t = await startTestApp(kind, { logLevel: 'info', bodyLimit: 1_048_576 }, { loggerStream: logs.stream });
    snap = await tenantSnapshotter(t.db);
    checker = new UnchangedChecker(() => snap(t.tenantId), findings);
    const c = scimClient(t, t.scimBase, t.scimToken);
    const u = await c.createUser('fuzz.target@example.com', {
      name: { givenName: 'Fuzz', familyName: 'Target' }, emails: [{ value: 'fuzz.target@example.com', type: 'work', primary: true }],
      [ENTERPRISE]: { employeeNumber: '42', manager: { value: 'nobody' } }, schemas: [USER, ENTERPRISE],
    });
    userId = u.id;
    memberIds = [(await c.createUser('m1@example.com')).id, (await c.createUser('m2@example.com')).id];
    groupId = (await c.createGroup('Fuzz Group', memberIds)).id;
  });
  after(async () => { await t.close(); });

  let checker: UnchangedChecker;
  /** Sends one request; records malformed answers; rejected requests go through the unchanged-data check. */
  async function probe(label: string, req: { method: string; url: string; payload?: string | Buffer; headers?: Record<string, string> }, input: unknown) {
    findings.tried++;
    const send = async () => {
      const r = await t.app.inject({
        method: req.method as 'GET',
        url: req.url,
        payload: req.payload,
        headers: { authorization: `Bearer ${t.scimToken}`, ...(req.payload !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...req.headers },
      });
      return { status: r.statusCode, body: r.body, headers: r.headers, json: () => r.json() };
    };
    let r;
    try {
      const changes = !['GET', 'HEAD', 'OPTIONS'].includes(req.method) && !/\/\.search(\?|$)/.test(req.url);
      r = await checker.run(label, input, send, changes) as Awaited<ReturnType<typeof send>>;
    } catch (err) {
      findings.add(`${label}: inject threw ${(err as Error).message}`, show(input));
      return;
    }
    const urlError = /^(raw url|id |tenant )/.test(label);
    const problem = req.method === 'HEAD'
      ? (r.status >= 500 ? `status ${r.status}` : undefined)
      : scimProblem({ status: r.status, headers: r.headers, body: r.body }, urlError);
    if (problem) findings.add(`${label}: ${problem}`, `${req.method} ${req.url.slice(0, 200)} ${show(input)} → ${r.status} ${r.body.slice(0, 300)}`);
    return r;
  }

  const json = toJson;
  /** Percent-encodes; lone surrogates become their (invalid) WTF-8 bytes, e.g. %ED%A0%80. */
  const q = (s: string) => s.split(/([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/).map((part) => (/^[\ud800-\udfff]$/.test(part)
    ? [0xe0 | (part.charCodeAt(0) >> 12), 0x80 | ((part.charCodeAt(0) >> 6) & 0x3f), 0x80 | (part.charCodeAt(0) & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
    : encodeURIComponent(part))).join('');

  test('bodies: arbitrary JSON, invalid JSON and invalid UTF-8 to every writing endpoint', async () => {
    const targets = () => [
      ['POST', '/Users'], ['POST', '/Groups'], ['PUT', `/Users/${userId}`], ['PUT', `/Groups/${groupId}`],
      ['PATCH', `/Users/${userId}`], ['PATCH', `/Groups/${groupId}`], ['POST', '/Bulk'], ['POST', '/.search'],
      ['POST', '/Users/.search'], ['POST', '/Groups/.search'],
    ] as const;
    await fc.assert(fc.asyncProperty(
      fc.nat(9),
      fc.oneof({ weight: 3, arbitrary: anyJson.map((v) => ({ v, raw: Buffer.from(json(v)) })) }, { weight: 2, arbitrary: rawBody.map((raw) => ({ v: raw, raw })) }),
      async (i, { v, raw }) => {
        const [method, path] = targets()[i]!;
        await probe(`body ${method} ${path.replace(/[0-9a-f-]{36}/, '{id}')}`, { method, url: `${t.scimBase}${path}`, payload: raw }, v);
      },
    ), { numRuns: runs(kind === 'pglite' ? 350 : 200), seed: SEED });
  });

  test('bodies: resources with hostile values in every attribute', async () => {
    checker.setWindow(1); // often valid: check each rejection on its own
    const userBody = fc.record({
      schemas: fc.oneof(fc.constant([USER]), fc.constant([USER, ENTERPRISE]), fc.array(nastyString, { maxLength: 3 }), valueFor),
      userName: fc.oneof(nastyString, valueFor),
      externalId: valueFor, displayName: valueFor, active: fc.oneof(fc.constantFrom(true, false, 'True', 'False', 'yes', 1, null), valueFor),
      name: fc.oneof(fc.record({ givenName: valueFor, familyName: valueFor }, { requiredKeys: [] }), valueFor),
      emails: fc.oneof(fc.array(fc.record({ value: valueFor, type: valueFor, primary: valueFor }, { requiredKeys: [] }), { maxLength: 3 }), valueFor),
      password: valueFor, id: valueFor, meta: valueFor, groups: valueFor,
      [ENTERPRISE]: fc.oneof(fc.record({ manager: valueFor, employeeNumber: valueFor }, { requiredKeys: [] }), valueFor),
      "urn:ietf:params:scim:schemas:core:2.0:User:userName": valueFor, "ＵｓｅｒＮａｍｅ": valueFor,
    }, { requiredKeys: ['schemas'] });
    const groupBody = fc.record({
      schemas: fc.oneof(fc.constant([GROUP]), valueFor),
      displayName: fc.oneof(nastyString, valueFor),
      externalId: valueFor,
      members: fc.oneof(
        fc.array(fc.record({ value: fc.oneof(fc.constant('MEMBER'), nastyString, valueFor), type: valueFor, display: valueFor, $ref: valueFor }, { requiredKeys: [] }), { maxLength: 4 }),
        valueFor,
      ),
    }, { requiredKeys: ['schemas'] });
    await fc.assert(fc.asyncProperty(fc.nat(3), userBody, groupBody, async (i, ub, gb) => {
      const gbody = toJson(gb).replaceAll('"MEMBER"', JSON.stringify(memberIds[0]));
      const [method, path, body] = ([
        ['POST', '/Users', toJson(ub)], ['PUT', `/Users/${userId}`, toJson(ub)], ['POST', '/Groups', gbody], ['PUT', `/Groups/${groupId}`, gbody],
      ] as const)[i]!;
      await probe(`resource ${method} ${path.replace(/[0-9a-f-]{36}/, '{id}')}`, { method, url: `${t.scimBase}${path}`, payload: body }, i < 2 ? ub : gb);
    }), { numRuns: runs(kind === 'pglite' ? 250 : 150), seed: SEED });
    await checker.checkpoint();
    checker.setWindow(25);
    // Restore the seed resources a valid PUT may have changed.
  });

  test('filters, sorting, paging and projections on every list endpoint', async () => {
    const listArgs = fc.record({
      filter: hostileFilter,
      sortBy: fc.option(fc.oneof(fc.constantFrom('userName', 'displayName', 'meta.created', 'emails.value', 'name.familyName'), nastyString), { nil: undefined }),
      sortOrder: fc.option(fc.oneof(fc.constantFrom('ascending', 'descending'), nastyString), { nil: undefined }),
      startIndex: fc.option(fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), fc.constantFrom('1e309', '99999999999999999999', 'abc', '1.5', '0x1', ''), nastyString), { nil: undefined }),
      count: fc.option(fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom('1e309', '99999999999999999999', 'abc', '1.5', ''), nastyString), { nil: undefined }),
      attributes: fc.option(fc.oneof(pathArb, nastyString), { nil: undefined }),
      excludedAttributes: fc.option(fc.oneof(pathArb, nastyString), { nil: undefined }),
    }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(fc.constantFrom('/Users', '/Groups'), fc.boolean(), listArgs, async (path, viaPost, a) => {
      if (viaPost) {
        const body = { schemas: [SEARCH], ...a, startIndex: a.startIndex === undefined ? undefined : Number(a.startIndex) || a.startIndex, count: a.count === undefined ? undefined : Number(a.count) || a.count, attributes: a.attributes === undefined ? undefined : [a.attributes] };
        await probe(`search POST ${path}/.search`, { method: 'POST', url: `${t.scimBase}${path}/.search`, payload: json(body) }, body);
        return;
      }
      const qs = Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${q(v as string)}`).join('&');
      const r = await probe(`list GET ${path}`, { method: 'GET', url: `${t.scimBase}${path}?${qs}` }, a);
      if (r && r.status === 400 && a.startIndex === undefined && a.count === undefined && a.sortBy === undefined && a.sortOrder === undefined
        && a.attributes === undefined && a.excludedAttributes === undefined && r.json().scimType !== 'invalidFilter') {
        findings.add('filter rejected without scimType invalidFilter', `${show(a.filter)} → ${r.body.slice(0, 300)}`);
      }
    }), { numRuns: runs(kind === 'pglite' ? 400 : 250), seed: SEED });
  });

  test('PATCH operations with hostile ops, paths and values (users and groups)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.boolean(),
      fc.oneof({ weight: 5, arbitrary: fc.array(patchOp, { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: valueFor }),
      fc.oneof({ weight: 5, arbitrary: fc.constant([PATCH]) }, { weight: 1, arbitrary: valueFor }),
      async (isUser, ops, schemas) => {
        const path = isUser ? `/Users/${userId}` : `/Groups/${groupId}`;
        const body = { schemas, Operations: ops };
        await probe(`patch ${isUser ? 'User' : 'Group'}`, { method: 'PATCH', url: `${t.scimBase}${path}`, payload: json(body) }, body);
      },
    ), { numRuns: runs(kind === 'pglite' ? 400 : 250), seed: SEED });
  });

  test('Bulk with hostile operations, bulkIds and references', async () => {
    const op = fc.record({
      method: fc.oneof(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'post', 'GET'), valueFor),
      bulkId: fc.oneof(fc.constantFrom('a', 'b', 'bulkId:a'), nastyString, valueFor),
      path: fc.oneof(fc.constantFrom('/Users', '/Groups', '/Users/bulkId:a', '/Groups/bulkId:b', `/Users/USER`, '/Users/', '/Users/a/b', '/Users?x', '/Schemas'), nastyString, valueFor),
      version: fc.oneof(fc.constantFrom('W/"1"', '*', '"x"'), valueFor),
      data: fc.oneof(
        fc.record({ schemas: fc.constant([USER]), userName: nastyString }),
        fc.record({ schemas: fc.constant([GROUP]), displayName: nastyString, members: fc.array(fc.record({ value: fc.oneof(fc.constantFrom('bulkId:a', 'bulkId:b', 'bulkId:', 'bulkId:zz', 'USER'), nastyString) }), { maxLength: 3 }) }),
        fc.record({ schemas: fc.constant([PATCH]), Operations: fc.array(patchOp, { maxLength: 2 }) }),
        valueFor,
      ),
    }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(
      fc.oneof({ weight: 5, arbitrary: fc.array(op, { maxLength: 6 }) }, { weight: 1, arbitrary: valueFor }),
      fc.option(fc.oneof(fc.integer({ min: -2, max: 3 }), valueFor), { nil: undefined }),
      async (ops, failOnErrors) => {
        const body = toJson({ schemas: [BULK], failOnErrors, Operations: ops }).replaceAll('USER', userId);
        await probe('bulk', { method: 'POST', url: `${t.scimBase}/Bulk`, payload: body }, ops);
      },
    ), { numRuns: runs(kind === 'pglite' ? 200 : 120), seed: SEED });
  });

  test('ids, tenant ids, headers and content types', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE'),
      fc.constantFrom('Users', 'Groups', 'Schemas', 'ResourceTypes'),
      nastyString,
      fc.record({
        'if-match': fc.option(nastyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')), { nil: undefined }),
        'if-none-match': fc.option(nastyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')), { nil: undefined }),
        'content-type': fc.option(fc.oneof(fc.constantFrom('application/scim+json; charset=latin1', 'application/json;charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '*/*', 'application/scim+json; x="'), nastyString.map((s) => s.replace(/[^\x20-\x7e]/g, ''))), { nil: undefined }),
      }, { requiredKeys: [] }),
      async (method, type, id, headers) => {
        const h = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>;
        const payload = method === 'GET' || method === 'DELETE' ? undefined : json({ schemas: [PATCH], Operations: [] });
        await probe(`id ${method} /${type}/{nasty}`, { method, url: `${t.scimBase}/${type}/${q(id)}`, payload, headers: h }, { id, h });
        await probe(`tenant ${method} /{nasty}/${type}`, { method, url: `/scim/v2/${q(id)}/${type}`, payload, headers: h }, { id, h });
      },
    ), { numRuns: runs(kind === 'pglite' ? 200 : 120), seed: SEED });
    // If-Match on the real resources
    for (const im of ['W/"0"', '"1"', 'W/"99999999999999999999"', '*', 'W/""', 'W/"x"', '"', ',', 'W/"1", W/"2"', '\\']) {
      await probe('if-match real user', { method: 'PATCH', url: `${t.scimBase}/Users/${userId}`, payload: json({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 't' }] }), headers: { 'if-match': im } }, im);
      await probe('if-match real group delete', { method: 'DELETE', url: `${t.scimBase}/Groups/${groupId}`, headers: { 'if-match': im === '*' ? 'W/"0"' : im } }, im);
    }
    // Raw URLs: bad percent-encoding, NUL, overlong segments, odd methods.
    for (const url of [
      `${t.scimBase}/Users/%`, `${t.scimBase}/Users/%E0%A4%A`, `${t.scimBase}/Users/%00`, `${t.scimBase}/Users?filter=%`, `${t.scimBase}/Users?filter=%00`,
      `${t.scimBase}/Users?filter=userName%20eq%20%22%00%22`, `${t.scimBase}/Users/${'a'.repeat(5000)}`, `/scim/v2/${'a'.repeat(5000)}/Users`,
      `${t.scimBase}/Users?filter=${'x'.repeat(60_000)}`, `${t.scimBase}/Users?count=1&count=2`, `${t.scimBase}/Users?filter=a&filter=b`,
      `${t.scimBase}/Users?attributes=userName&attributes=id`, `${t.scimBase}//Users`, `${t.scimBase}/Users/../Groups`, `/SCIM/V2/${t.tenantId}/USERS`,
      `/scim/v2/${t.tenantId.toUpperCase()}/Users`, `${t.scimBase}/Users/${userId}/extra`, `${t.scimBase}/Users?startIndex[]=1`,
    ]) {
      for (const method of ['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD']) {
        const payload = method === 'POST' ? '{}' : undefined;
        const r = await probe(`raw url ${method}`, { method, url, payload }, url);
        if (r && r.status >= 500) assert.fail(`${method} ${url} → ${r.status}`);
      }
    }
    // Authorization headers of every shape.
    for (const auth of ['', 'Bearer', 'Bearer ', `Bearer ${t.scimToken}x`, `bearer ${t.scimToken.slice(0, -1)}`, 'Basic', 'Basic !!!', 'Basic Og==', `Basic ${Buffer.from(':').toString('base64')}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`, `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}`, 'Digest x', `Bearer ${'x'.repeat(10_000)}`, 'Bearer \u0000', 'Bearer a b',
      `Bearer ${t.scimToken}, Bearer ${t.scimToken}`]) {
      findings.tried++;
      const r = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: auth } });
      const p = scimProblem({ status: r.statusCode, headers: r.headers, body: r.body });
      if (p) findings.add(`auth: ${p}`, `${auth.slice(0, 60)} → ${r.statusCode} ${r.body.slice(0, 200)}`);
      else if (r.statusCode !== 401) findings.add('auth: not 401', `${auth.slice(0, 60)} → ${r.statusCode}`);
    }
  });

  test('deeply nested and huge inputs at each level', async () => {
    checker.setWindow(1);
    const shapes: Array<[string, unknown]> = [
      ['deep user attribute', { schemas: [USER], userName: 'deep@example.com', name: deepObject(5000) }],
      ['deep extension', { schemas: [USER, ENTERPRISE], userName: 'deep2@example.com', [ENTERPRISE]: deepObject(5000, 'manager') }],
      ['deep array attribute', { schemas: [USER], userName: 'deep3@example.com', emails: deepArray(5000) }],
      ['50k emails', { schemas: [USER], userName: 'wide@example.com', emails: Array.from({ length: 20_000 }, (_, i) => ({ value: `e${i}@x.io` })) }],
      ['huge userName', { schemas: [USER], userName: 'u'.repeat(900_000) }],
      ['many keys', { schemas: [USER], userName: 'keys@example.com', ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) }],
      ['20k members', { schemas: [GROUP], displayName: 'wide group', members: Array.from({ length: 20_000 }, (_, i) => ({ value: `m${i}` })) }],
    ];
    for (const [label, body] of shapes) {
      await probe(`huge ${label}`, { method: 'POST', url: `${t.scimBase}/${label.includes('member') ? 'Groups' : 'Users'}`, payload: json(body) }, label);
    }
    const patches: Array<[string, unknown]> = [
      ['10k ops', Array.from({ length: 10_000 }, () => ({ op: 'replace', path: 'title', value: 'x' }))],
      ['deep value', [{ op: 'add', path: 'title', value: deepObject(5000) }]],
      ['deep no-path value', [{ op: 'replace', value: deepObject(5000) }]],
      ['20k member adds', [{ op: 'add', path: 'members', value: Array.from({ length: 20_000 }, (_, i) => ({ value: `nope-${i}` })) }]],
    ];
    for (const [label, ops] of patches) {
      for (const path of [`/Users/${userId}`, `/Groups/${groupId}`]) {
        await probe(`huge patch ${label}`, { method: 'PATCH', url: `${t.scimBase}${path}`, payload: json({ schemas: [PATCH], Operations: ops }) }, label);
      }
    }
    await probe('huge bulk deep data', { method: 'POST', url: `${t.scimBase}/Bulk`, payload: json({ schemas: [BULK], Operations: [{ method: 'POST', bulkId: 'x', path: '/Users', data: deepObject(8000) }] }) }, 'bulk deep');
    await probe('huge bulk circular refs', {
      method: 'POST', url: `${t.scimBase}/Bulk`,
      payload: json({ schemas: [BULK], Operations: Array.from({ length: 500 }, (_, i) => ({ method: 'POST', bulkId: `b${i}`, path: '/Groups', data: { schemas: [GROUP], displayName: `circ ${i}`, members: [{ value: `bulkId:b${(i + 1) % 500}` }] } })) }),
    }, 'bulk circular');
  });

  test('the app is still up, nothing was logged at level error, and the tally', async (tt) => {
    await checker.checkpoint();
    const r = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users/${userId}`, headers: { authorization: `Bearer ${t.scimToken}` } });
    assert.ok(r.statusCode === 200 || r.statusCode === 404, `still serving: ${r.statusCode}`);
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    for (const line of logs.errors()) findings.add('logged at level error', line);
    tt.diagnostic(`[${kind}] SCIM fuzz: ${findings.tried} inputs, seed ${SEED}`);
    console.log(`# [${kind}] SCIM fuzz: ${findings.tried} inputs tried, ${findings.count} failures, seed ${SEED}`);
    findings.assertNone(`[${kind}] SCIM fuzz (seed ${SEED})`);
  });
});
