/**
 * The SQL compiler against the in-memory reference evaluator, on real
 * PostgreSQL (PGlite): for random filters over random users and groups, the
 * rows PostgreSQL returns must be exactly the resources matchesFilter accepts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { InvalidFilterError, InvalidValueError } from '../errors.js';
import { buildResourceSchemas, type TenantExtensionAttribute } from '../schema/registry.js';
import type { ResourceSchemas } from '../schema/types.js';
import type { AttrPath, CompareOp, FilterNode, Literal } from './ast.js';
import { compileFilter, compileSort } from './compile-sql.js';
import { matchesFilter } from './evaluate.js';
import { parseFilter } from './parse.js';
import { printFilter } from './print.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CUSTOM = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName';
const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
const MIGRATIONS = ['001_foundation.sql', '005_member_display.sql'].map((f) => new URL(`../../db/migrations/${f}`, import.meta.url));

const tenantAttrs: TenantExtensionAttribute[] = [
  { schema: ACME, name: 'level', type: 'integer', multiValued: false },
  { schema: ACME, name: 'score', type: 'decimal', multiValued: false },
  { schema: ACME, name: 'hired', type: 'dateTime', multiValued: false },
  { schema: ACME, name: 'vip', type: 'boolean', multiValued: false },
  { schema: ACME, name: 'tags', type: 'string', multiValued: true },
  { schema: ACME, name: 'code', type: 'string', multiValued: false, caseExact: true },
];
const userRs = buildResourceSchemas('User', tenantAttrs);
const groupRs = buildResourceSchemas('Group', []);

// ---------- deterministic random data ----------
let seed = 0x5eed;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const chance = (p: number): boolean => rnd() < p;
const randomCase = (s: string): string => [...s].map((c) => (chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');

// Letters on which JavaScript's and PostgreSQL's lower() agree, plus SQL/LIKE metacharacters.
const WORDS = ['alice', 'bob', 'élodie', 'zoë', "o'hara", 'a_b', '50%', 'back\\slash', 'quo"te', "'; drop table scim_users; --", 'ümit', 'x'];
const TYPES = ['work', 'home', 'other', 'Work'];
const TAGS = ['red', 'Green', 'blue', 'a%b', 'c_d'];
const iso = (ms: number): string => new Date(ms).toISOString();
const BASE = Date.parse('2022-01-01T00:00:00Z');
// Stored with extra microseconds, as now() does; resources render milliseconds.
const micro = (ms: number): string => iso(ms).replace('Z', `${String(ms % 997).padStart(3, '0')}Z`);

interface UserRow {
  id: string; userName: string; externalId: string | null; displayName: string | null; active: boolean;
  data: Record<string, unknown>; created: number; updated: number; version: number;
}
interface GroupRow { id: string; displayName: string; externalId: string | null; members: { id: string; type: 'User' | 'Group' }[]; created: number; updated: number; version: number }

function makeUser(i: number): UserRow {
  const data: Record<string, unknown> = {};
  if (chance(0.8)) {
    const name: Record<string, unknown> = {};
    if (chance(0.8)) name.givenName = randomCase(pick(WORDS));
    if (chance(0.8)) name.familyName = randomCase(pick(WORDS));
    data.name = name;
  }
  if (chance(0.85)) {
    data.emails = Array.from({ length: Math.floor(rnd() * 3) }, (_, k) => {
      const e: Record<string, unknown> = { value: `${randomCase(pick(WORDS))}${k}@${pick(['example.com', 'Example.ORG'])}` };
      if (chance(0.8)) e.type = pick(TYPES);
      if (chance(0.3)) e.primary = chance(0.5);
      return e;
    });
  } else if (chance(0.3)) {
    data.emails = { value: 'lone@example.com', type: 'work' }; // a lone value counts as one element
  }
  if (chance(0.3)) data.title = pick(['', 'Boss', 'boss', 'Engineer']);
  if (chance(0.1)) data.nickName = 42; // wrong JSON type: never matches a string comparison
  const ent: Record<string, unknown> = {};
  if (chance(0.6)) ent.employeeNumber = String(Math.floor(rnd() * 1000));
  if (chance(0.3)) ent.manager = { value: pick(['m1', 'M1', 'm2']) };
  if (Object.keys(ent).length || chance(0.2)) data[ENT] = ent;
  if (chance(0.5)) data[CUSTOM] = { folders: Array.from({ length: Math.floor(rnd() * 3) }, () => pick(['d1', 'D2', 'ds-3'])) };
  const acme: Record<string, unknown> = {};
  if (chance(0.7)) acme.level = Math.floor(rnd() * 10) - 2;
  if (chance(0.7)) acme.score = Math.round(rnd() * 1000) / 100;
  if (chance(0.7)) acme.hired = iso(BASE + Math.floor(rnd() * 3e10));
  if (chance(0.7)) acme.vip = chance(0.5);
  if (chance(0.1)) acme.vip = 'True'; // wrong type
  if (chance(0.7)) acme.tags = Array.from({ length: Math.floor(rnd() * 3) }, () => pick(TAGS));
  if (chance(0.6)) acme.code = pick(['AbC', 'abc', 'X_1']);
  if (Object.keys(acme).length) data[ACME] = acme;
  const created = BASE + Math.floor(rnd() * 3e10);
  return {
    id: randomUUID(),
    userName: `${randomCase(pick(WORDS))}${i}`,
    externalId: chance(0.7) ? pick(['ext-1', 'EXT-1', 'ext-2', `ext-${i}`, '']) : null,
    displayName: chance(0.7) ? randomCase(pick(WORDS)) : null,
    active: chance(0.7),
    data,
    created,
    updated: created + Math.floor(rnd() * 1e9),
    version: 1 + Math.floor(rnd() * 5),
  };
}

const TENANT = randomUUID();
const OTHER_TENANT = randomUUID();
const users: UserRow[] = Array.from({ length: 60 }, (_, i) => makeUser(i));
const groups: GroupRow[] = Array.from({ length: 6 }, (_, i) => ({
  id: randomUUID(),
  displayName: `${randomCase(pick(['Admins', 'Sales', 'Élan', 'R&D']))}-${i}`,
  externalId: chance(0.5) ? `g-ext-${i % 3}` : null,
  members: users.filter(() => chance(0.3)).map((u) => ({ id: u.id, type: 'User' as const })),
  created: BASE + i * 1000,
  updated: BASE + i * 2000,
  version: 1,
}));
groups[0]!.members.push({ id: groups[1]!.id, type: 'Group' }); // a nested group
groups[5]!.members = [];

function userResource(u: UserRow): Record<string, unknown> {
  const res: Record<string, unknown> = {
    ...u.data,
    id: u.id,
    userName: u.userName,
    active: u.active,
    meta: { resourceType: 'User', created: iso(u.created), lastModified: iso(u.updated), version: `W/"${u.version}"` },
  };
  if (u.externalId !== null) res.externalId = u.externalId;
  if (u.displayName !== null) res.displayName = u.displayName;
  const gs = groups.filter((g) => g.members.some((m) => m.id === u.id));
  if (gs.length) res.groups = gs.map((g) => ({ value: g.id, display: g.displayName, type: 'direct' }));
  return res;
}

function groupResource(g: GroupRow): Record<string, unknown> {
  const res: Record<string, unknown> = {
    id: g.id,
    displayName: g.displayName,
    meta: { resourceType: 'Group', created: iso(g.created), lastModified: iso(g.updated), version: `W/"${g.version}"` },
  };
  if (g.externalId !== null) res.externalId = g.externalId;
  if (g.members.length) {
    res.members = g.members.map((m) => {
      // As groups-store renders it: the user's displayName, else userName; a group's displayName.
      const u = users.find((x) => x.id === m.id);
      const display = u ? (u.displayName ?? u.userName) : groups.find((x) => x.id === m.id)!.displayName;
      return { value: m.id, type: m.type, display };
    });
  }
  return res;
}

// ---------- database ----------
let db: PGlite;

before(async () => {
  db = new PGlite();
  for (const m of MIGRATIONS) await db.exec(readFileSync(m, 'utf8'));
  for (const t of [TENANT, OTHER_TENANT]) await db.query('INSERT INTO tenants (tenant_id, name) VALUES ($1, $2)', [t, 't']);
  for (const u of users) {
    for (const t of [TENANT, OTHER_TENANT]) {
      // The other tenant holds the same rows under other ids: the tenant predicate must exclude them.
      await db.query(
        `INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [t, t === TENANT ? u.id : randomUUID(), u.userName, u.externalId, u.displayName, u.active, JSON.stringify(u.data), u.version, micro(u.created), micro(u.updated)],
      );
    }
  }
  for (const g of groups) {
    await db.query(
      `INSERT INTO scim_groups (tenant_id, id, display_name, external_id, data, version, created_at, updated_at) VALUES ($1, $2, $3, $4, '{}', $5, $6, $7)`,
      [TENANT, g.id, g.displayName, g.externalId, g.version, iso(g.created), iso(g.updated)],
    );
  }
  for (const g of groups) {
    for (const m of g.members) {
      await db.query('INSERT INTO scim_group_members (tenant_id, group_id, member_id, member_type) VALUES ($1, $2, $3, $4)', [TENANT, g.id, m.id, m.type]);
    }
  }
});

after(async () => {
  await db?.close();
});

type Outcome = { ids: string[] } | { error: string };

async function viaSql(ast: FilterNode, rs: ResourceSchemas, table: string): Promise<Outcome> {
  const params: unknown[] = [TENANT];
  let sql: string;
  try {
    sql = compileFilter(ast, { rs, alias: 'r', params });
  } catch (e) {
    if (e instanceof InvalidFilterError) return { error: 'invalidFilter' };
    throw e;
  }
  const res = await db.query<{ id: string }>(`SELECT r.id FROM ${table} r WHERE r.tenant_id = $1 AND (${sql}) ORDER BY r.id`, params);
  return { ids: res.rows.map((r) => r.id) };
}

function viaEvaluator(ast: FilterNode, rs: ResourceSchemas, resources: Record<string, unknown>[]): Outcome {
  try {
    return { ids: resources.filter((r) => matchesFilter(ast, r, rs)).map((r) => r.id as string).sort() };
  } catch (e) {
    if (e instanceof InvalidFilterError) return { error: 'invalidFilter' };
    throw e;
  }
}

// ---------- random filters ----------
type Kind = 'str' | 'ciStr' | 'bool' | 'num' | 'dt' | 'id' | 'any';
const USER_PATHS: [AttrPath, Kind][] = [
  [{ attr: 'userName' }, 'str'], [{ attr: 'USERNAME' }, 'str'], [{ attr: 'name', sub: 'givenName' }, 'str'],
  [{ attr: 'name', sub: 'familyName' }, 'str'], [{ attr: 'name' }, 'any'], [{ attr: 'displayName' }, 'str'],
  [{ attr: 'nickName' }, 'str'], [{ attr: 'title' }, 'str'], [{ attr: 'externalId' }, 'str'], [{ attr: 'id' }, 'id'],
  [{ attr: 'active' }, 'bool'], [{ attr: 'emails' }, 'str'], [{ attr: 'emails', sub: 'value' }, 'str'],
  [{ attr: 'emails', sub: 'type' }, 'str'], [{ attr: 'emails', sub: 'primary' }, 'bool'],
  [{ attr: 'meta', sub: 'created' }, 'dt'], [{ attr: 'meta', sub: 'lastModified' }, 'dt'], [{ attr: 'meta', sub: 'version' }, 'str'],
  [{ attr: 'meta', sub: 'resourceType' }, 'str'], [{ attr: 'meta' }, 'any'],
  [{ urn: ENT, attr: 'employeeNumber' }, 'str'], [{ urn: ENT, attr: 'manager', sub: 'value' }, 'str'], [{ urn: ENT, attr: 'manager' }, 'any'],
  [{ attr: 'employeeNumber' }, 'str'], [{ urn: CUSTOM, attr: 'folders' }, 'str'],
  [{ urn: ACME, attr: 'level' }, 'num'], [{ urn: ACME, attr: 'score' }, 'num'], [{ urn: ACME, attr: 'hired' }, 'dt'],
  [{ urn: ACME, attr: 'vip' }, 'bool'], [{ urn: ACME, attr: 'tags' }, 'str'], [{ urn: ACME, attr: 'code' }, 'str'],
  [{ attr: 'groups' }, 'id'], [{ attr: 'groups', sub: 'value' }, 'id'], [{ attr: 'groups', sub: 'display' }, 'str'],
  [{ attr: 'groups', sub: 'type' }, 'str'], [{ attr: 'nosuch' }, 'str'], [{ attr: 'password' }, 'str'],
];
const GROUP_PATHS: [AttrPath, Kind][] = [
  [{ attr: 'displayName' }, 'str'], [{ attr: 'id' }, 'id'], [{ attr: 'externalId' }, 'str'], [{ attr: 'members' }, 'id'],
  [{ attr: 'members', sub: 'value' }, 'id'], [{ attr: 'members', sub: 'type' }, 'str'], [{ attr: 'members', sub: 'display' }, 'str'],
  [{ attr: 'meta', sub: 'created' }, 'dt'], [{ attr: 'meta', sub: 'version' }, 'str'],
];
const OPS: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];
const NP = { noNullPrototype: true } as const;

const strPool = [
  ...users.flatMap((u) => [u.userName, u.displayName ?? '', u.externalId ?? '']),
  ...groups.map((g) => g.displayName), ...WORDS, ...TYPES, ...TAGS, 'd1', 'D2', 'ds-3', 'm1', '1', '12', 'example.com', '@EXAMPLE.ORG',
  'W/"2"', 'User', 'Group', 'direct', 'AbC', 'abc', 'X_1', '%', '_', '\\', '"', "'", '',
];
const idPool = [...users.slice(0, 10).map((u) => u.id), ...groups.map((g) => g.id)];
const safeChar = fc.constantFrom(...'abcABCxyz019 _%\\\'"-@.éÉüÜ');

const strLit: fc.Arbitrary<Literal> = fc.oneof(
  fc.constantFrom(...strPool).chain((s) => fc.tuple(fc.nat(s.length), fc.nat(s.length), fc.boolean(), fc.boolean()).map(([a, b, up, whole]) => {
    const sub = whole ? s : s.slice(Math.min(a, b), Math.max(a, b));
    return up ? sub.toUpperCase() : sub;
  })),
  fc.constantFrom(...strPool),
  fc.string({ unit: safeChar, maxLength: 6 }),
);
/** A .NET-style dateTime: local time at an offset, 7 fractional digits (the last 4 are truncated away). */
const dotnet = (ms: number, extra: number, offsetMin: number): string => {
  const local = iso(ms + offsetMin * 60_000).slice(0, 23);
  const a = Math.abs(offsetMin);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${local}${String(extra).padStart(4, '0')}${offsetMin < 0 ? '-' : '+'}${hh}:${mm}`;
};
const offsetMin = fc.constantFrom(-420, -600, 0, 60, 330, 840);
const dtLit: fc.Arbitrary<Literal> = fc.oneof(
  fc.integer({ min: BASE - 1e9, max: BASE + 3.2e10 }).map(iso),
  fc.tuple(fc.integer({ min: BASE - 1e9, max: BASE + 3.2e10 }), fc.nat(9999), offsetMin).map(([ms, x, off]) => dotnet(ms, x, off)),
  fc.tuple(fc.constantFrom(...users.slice(0, 10).map((u) => u.created)), fc.nat(9999), offsetMin).map(([ms, x, off]) => dotnet(ms, x, off)),
  fc.constantFrom(...users.slice(0, 10).map((u) => iso(u.created)), '2022-06-01T00:00:00+02:00', '2022-06-01T00:00:00', '2023-02-29T00:00:00Z', 'yesterday'),
);
const literalFor = (k: Kind): fc.Arbitrary<Literal> => {
  const odd = fc.constantFrom<Literal>(null, true, 7, 'x');
  switch (k) {
    case 'str':
    case 'ciStr': return fc.oneof({ weight: 8, arbitrary: strLit }, { weight: 1, arbitrary: odd });
    case 'bool': return fc.oneof({ weight: 6, arbitrary: fc.constantFrom<Literal>(true, false, 'True', 'false') }, { weight: 1, arbitrary: odd });
    case 'num': return fc.oneof({ weight: 6, arbitrary: fc.oneof(fc.integer({ min: -3, max: 9 }), fc.constantFrom(2.5, 0.01, '3', -0.5)) }, { weight: 1, arbitrary: odd });
    case 'dt': return fc.oneof({ weight: 6, arbitrary: dtLit }, { weight: 1, arbitrary: odd });
    case 'id': return fc.oneof(
      fc.constantFrom(...idPool), fc.constantFrom(...idPool).map((s) => s.toUpperCase()),
      fc.constantFrom(...idPool).map((s) => s.slice(0, 8)), fc.constantFrom<Literal>('not-a-uuid', null, ''),
    );
    case 'any': return fc.oneof(strLit, odd);
  }
};

function leafFor(paths: [AttrPath, Kind][]): fc.Arbitrary<FilterNode> {
  return fc.constantFrom(...paths).chain(([path, kind]) => fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('compare' as const), path: fc.constant(path), op: fc.constantFrom(...OPS), value: literalFor(kind) }, NP) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('present' as const), path: fc.constant(path) }, NP) },
  ));
}

function filterTree(paths: [AttrPath, Kind][], valuePaths: [AttrPath, [AttrPath, Kind][]][]): fc.Arbitrary<FilterNode> {
  const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'outer' },
      leafFor(paths),
      fc.record({ kind: fc.constant('and' as const), left: tie('node'), right: tie('node') }, NP),
      fc.record({ kind: fc.constant('or' as const), left: tie('node'), right: tie('node') }, NP),
      fc.record({ kind: fc.constant('not' as const), filter: tie('node') }, NP),
      fc.constantFrom(...valuePaths).chain(([path, inner]) =>
        fc.record({ kind: fc.constant('valuePath' as const), path: fc.constant(path), filter: innerTree(inner) }, NP)),
    ),
  }));
  return node;
}
function innerTree(paths: [AttrPath, Kind][]): fc.Arbitrary<FilterNode> {
  const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 2, depthIdentifier: 'inner' },
      leafFor(paths),
      fc.record({ kind: fc.constant('and' as const), left: tie('node'), right: tie('node') }, NP),
      fc.record({ kind: fc.constant('or' as const), left: tie('node'), right: tie('node') }, NP),
      fc.record({ kind: fc.constant('not' as const), filter: tie('node') }, NP),
    ),
  }));
  return node;
}

const USER_VALUE_PATHS: [AttrPath, [AttrPath, Kind][]][] = [
  [{ attr: 'emails' }, [[{ attr: 'type' }, 'str'], [{ attr: 'value' }, 'str'], [{ attr: 'primary' }, 'bool'], [{ attr: 'bogus' }, 'str']]],
  [{ attr: 'groups' }, [[{ attr: 'value' }, 'id'], [{ attr: 'display' }, 'str'], [{ attr: 'type' }, 'str']]],
  [{ urn: ACME, attr: 'tags' }, [[{ attr: 'value' }, 'str']]],
  [{ attr: 'name' }, [[{ attr: 'givenName' }, 'str'], [{ attr: 'familyName' }, 'str']]],
  [{ urn: ENT, attr: 'manager' }, [[{ attr: 'value' }, 'str']]],
];
const GROUP_VALUE_PATHS: [AttrPath, [AttrPath, Kind][]][] = [
  [{ attr: 'members' }, [[{ attr: 'value' }, 'id'], [{ attr: 'type' }, 'str'], [{ attr: 'display' }, 'str']]],
];

async function checkSame(ast: FilterNode, rs: ResourceSchemas, table: string, resources: Record<string, unknown>[]): Promise<Outcome> {
  const expected = viaEvaluator(ast, rs, resources);
  const actual = await viaSql(ast, rs, table);
  assert.deepStrictEqual(actual, expected, `filter: ${printFilter(ast)}`);
  return expected;
}

describe('compileFilter: SQL equals the reference evaluator', () => {
  it('property: random User filters', async () => {
    const resources = users.map(userResource);
    const stats = { matched: 0, empty: 0, errors: 0 };
    await fc.assert(
      fc.asyncProperty(filterTree(USER_PATHS, USER_VALUE_PATHS), async (ast) => {
        const out = await checkSame(ast, userRs, 'scim_users', resources);
        if ('error' in out) stats.errors++;
        else if (out.ids.length) stats.matched++;
        else stats.empty++;
      }),
      { numRuns: Number(process.env.RUNS ?? 400), ...(process.env.RUNS ? {} : { seed: 7 }) },
    );
    // The generators must exercise real matches, not only empty results and errors.
    assert.ok(stats.matched > 100, JSON.stringify(stats));
  });

  it('property: random Group filters', async () => {
    const resources = groups.map(groupResource);
    await fc.assert(
      fc.asyncProperty(filterTree(GROUP_PATHS, GROUP_VALUE_PATHS), async (ast) => {
        await checkSame(ast, groupRs, 'scim_groups', resources);
      }),
      { numRuns: Number(process.env.RUNS ?? 200), ...(process.env.RUNS ? {} : { seed: 11 }) },
    );
  });

  it('hand-picked filters agree and match what they should', async () => {
    const resources = users.map(userResource);
    const u0 = users[0]!;
    const cases: [string, (u: UserRow) => boolean][] = [
      [`userName eq "${u0.userName.toUpperCase()}"`, (u) => u.id === u0.id],
      [`id eq "${u0.id.toUpperCase()}"`, (u) => u.id === u0.id],
      ['id eq "nope"', () => false],
      // Stored microseconds compare at the millisecond precision resources render.
      [`meta.created eq "${iso(u0.created)}"`, (u) => u.created === u0.created],
      [`meta.lastModified le "${iso(u0.updated)}"`, (u) => u.updated <= u0.updated],
      ['id ne "nope"', () => true],
      ['externalId eq "ext-1"', (u) => u.externalId === 'ext-1'],
      ['externalId eq null', (u) => !u.externalId],
      ['externalId pr', (u) => !!u.externalId],
      ['active eq "False"', (u) => !u.active],
      ['title pr', (u) => typeof u.data.title === 'string' && u.data.title !== ''],
      ['emails[type eq "work"]', (u) => (Array.isArray(u.data.emails) ? u.data.emails : u.data.emails ? [u.data.emails] : []).some((e) => String((e as { type?: string }).type).toLowerCase() === 'work')],
      [`${ACME}:level ge 3`, (u) => typeof (u.data[ACME] as { level?: number } | undefined)?.level === 'number' && (u.data[ACME] as { level: number }).level >= 3],
      // Lenient forms real clients send (Microsoft tutorial / Postman collection).
      ['externalId eq ext-1', (u) => u.externalId === 'ext-1'],
      ['userName sw ALI', (u) => u.userName.toLowerCase().startsWith('ali')],
      ["userName sw o'h", (u) => u.userName.toLowerCase().startsWith("o'h")],
      [`meta.Created gt ${dotnet(u0.created, 9999, -420)}`, (u) => u.created > u0.created],
      [`meta.Created ge ${dotnet(u0.created, 9999, 330)}`, (u) => u.created >= u0.created],
      ['meta.created gt 2015-10-10T14:38:21.8617979-07:00', () => true],
      ['name.FamilyName eq Bob and (emails.Value co example.com or emails.Value co example.org)', (u) => {
        const n = u.data.name as { familyName?: string } | undefined;
        const list = (Array.isArray(u.data.emails) ? u.data.emails : u.data.emails ? [u.data.emails] : []) as { value: string }[];
        return n?.familyName?.toLowerCase() === 'bob' && list.some((e) => /example\.(com|org)/i.test(e.value));
      }],
      ['emails[type eq work].value co EXAMPLE.ORG', (u) => {
        const list = (Array.isArray(u.data.emails) ? u.data.emails : u.data.emails ? [u.data.emails] : []) as { value: string; type?: string }[];
        return list.some((e) => e.type?.toLowerCase() === 'work' && e.value.toLowerCase().includes('example.org'));
      }],
    ];
    for (const [text, want] of cases) {
      const out = await checkSame(parseFilter(text), userRs, 'scim_users', resources);
      assert.deepStrictEqual(out, { ids: users.filter(want).map((u) => u.id).sort() }, text);
    }
  });
});

describe('compileFilter: SQL shape', () => {
  const compile = (text: string, rs = userRs) => {
    const params: unknown[] = ['tenant'];
    return { sql: compileFilter(parseFilter(text), { rs, alias: 'r', params }), params };
  };
  it('userName eq hits the lower(user_name) index', () => {
    assert.deepStrictEqual(compile('userName eq "BJensen@Example.com"'), { sql: 'lower(r.user_name) = lower($2)', params: ['tenant', 'BJensen@Example.com'] });
    assert.deepStrictEqual(compile('urn:ietf:params:scim:schemas:core:2.0:User:UserName EQ "X"'), { sql: 'lower(r.user_name) = lower($2)', params: ['tenant', 'X'] });
  });
  it('externalId, id, Group displayName and members map to indexed columns', () => {
    assert.deepStrictEqual(compile('externalId eq "AbC"'), { sql: 'r.external_id = $2', params: ['tenant', 'AbC'] });
    const id = '2819c223-7f76-453a-919d-413861904646';
    assert.deepStrictEqual(compile(`id eq "${id.toUpperCase()}"`), { sql: 'r.id = $2::uuid', params: ['tenant', id] });
    assert.deepStrictEqual(compile('id eq "x"'), { sql: 'FALSE', params: ['tenant'] });
    assert.deepStrictEqual(compile('id ne "x"'), { sql: 'TRUE', params: ['tenant'] });
    assert.deepStrictEqual(compile('displayName eq "Sales"', groupRs), { sql: 'lower(r.display_name) = lower($2)', params: ['tenant', 'Sales'] });
    assert.deepStrictEqual(compile(`id eq "${id}" and members[value eq "${id}"]`, groupRs), {
      sql: `(r.id = $2::uuid AND EXISTS (SELECT 1 FROM scim_group_members gm1 WHERE gm1.tenant_id = r.tenant_id AND gm1.group_id = r.id AND gm1.member_id = $3::uuid))`,
      params: ['tenant', id, id],
    });
    assert.deepStrictEqual(compile('members[value eq "nope"]', groupRs).sql,
      'EXISTS (SELECT 1 FROM scim_group_members gm1 WHERE gm1.tenant_id = r.tenant_id AND gm1.group_id = r.id AND FALSE)');
  });
  it('not wraps with COALESCE; LIKE patterns are escaped and lowercased by PostgreSQL', () => {
    assert.deepStrictEqual(compile('not (displayName sw "50%_A\\\\")'), {
      sql: "NOT COALESCE(lower(r.display_name) LIKE lower($2) ESCAPE '\\', false)",
      params: ['tenant', '50\\%\\_A\\\\%'],
    });
  });
  it('flattens long chains instead of nesting', () => {
    const text = Array.from({ length: 300 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    const { sql, params } = compile(text);
    assert.equal(params.length, 301);
    assert.ok(!sql.includes('(('), 'no nested parentheses');
  });
  it('rejects unknown attributes, bad types and bad operators with invalidFilter naming the problem', () => {
    const bad: [string, RegExp][] = [
      ['nosuch eq "x"', /unknown attribute "nosuch"/],
      ['name.nosuch eq "x"', /unknown attribute "name.nosuch"/],
      ['urn:ietf:params:scim:schemas:extension:2.0:Nope:x eq "x"', /unknown attribute/],
      ['password eq "x"', /cannot be used in a filter/],
      ['active gt true', /boolean attributes support only eq, ne and pr/],
      ['name eq "x"', /complex/],
      ['meta.created gt "yesterday"', /expected a dateTime/],
      ['meta.created gt "2023-02-29T00:00:00Z"', /expected a dateTime/],
      [`${ACME}:level co "1"`, /do not support co/],
      [`${ACME}:level eq "abc"`, /expected a number/],
      ['userName gt null', /null can only be compared with eq or ne/],
      ['emails[bogus eq "x"]', /unknown attribute "emails\[bogus\]"/],
      ['groups.$ref eq "x"', /not filterable/],
      ['meta.location eq "x"', /not filterable/],
    ];
    for (const [text, re] of bad) {
      assert.throws(() => compile(text), (e: unknown) => e instanceof InvalidFilterError && re.test(e.message), text);
    }
  });
});

describe('compileFilter: injection', () => {
  const nasty = ["'; DROP TABLE scim_users; --", '%', '_', '\\', '"', "\\'", '%_\\%', "' OR '1'='1", '$1', '$$ ; $$'];
  it('literals become parameters and match literally', async () => {
    const id = randomUUID();
    const tenant = randomUUID();
    await db.query('INSERT INTO tenants (tenant_id, name) VALUES ($1, $2)', [tenant, 'injection']);
    await db.query(
      'INSERT INTO scim_users (tenant_id, id, user_name, data) VALUES ($1, $2, $3, $4)',
      [tenant, id, 'a%b_c\\d\'e"f', JSON.stringify({ title: "x'; DROP TABLE scim_users; --" })],
    );
    await db.query("INSERT INTO scim_users (tenant_id, id, user_name, data) VALUES ($1, $2, 'axbyc', '{}')", [tenant, randomUUID()]);
    const run = async (text: string) => {
      const params: unknown[] = [tenant];
      const sql = compileFilter(parseFilter(text), { rs: userRs, alias: 'r', params });
      // Only our own SQL text: no literal from the filter appears in it.
      assert.ok(!/DROP|OR '1'|\$\$|A%B|%b_/i.test(sql), sql);
      return (await db.query<{ id: string }>(`SELECT r.id FROM scim_users r WHERE r.tenant_id = $1 AND (${sql})`, params)).rows.map((r) => r.id);
    };
    assert.deepStrictEqual(await run(String.raw`userName eq "A%B_C\\D'E\"F"`), [id]);
    assert.deepStrictEqual(await run('userName co "%b_"'), [id]);
    assert.deepStrictEqual(await run(String.raw`userName co "c\\d"`), [id]);
    assert.deepStrictEqual(await run('userName sw "a%"'), [id]);
    assert.deepStrictEqual(await run('userName sw "a_"'), []);
    assert.deepStrictEqual(await run('userName co "%%"'), []);
    assert.deepStrictEqual(await run('title ew "DROP TABLE scim_users; --"'), [id]);
    for (const n of nasty) {
      const text = `userName eq ${JSON.stringify(n)} or title co ${JSON.stringify(n)} or emails[value sw ${JSON.stringify(n)}]`;
      const ids = await run(text);
      assert.ok(ids.every((x) => x === id));
    }
    const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM scim_users');
    assert.ok(count.rows[0]!.n > 100, 'table still there');
  });
});

describe('compileSort', () => {
  const sort = (by: string, rs = userRs) => compileSort(by, { rs, alias: 'r', params: [] });
  it('maps columns, lower() for case-insensitive strings, typed jsonb', async () => {
    assert.equal(sort('userName'), 'lower(r.user_name)');
    assert.equal(sort('externalId'), 'r.external_id');
    assert.equal(sort('meta.created'), 'r.created_at');
    assert.equal(sort('meta.lastModified'), 'r.updated_at');
    assert.equal(sort('displayName', groupRs), 'lower(r.display_name)');
    assert.match(sort('name.familyName'), /^lower\(\(CASE WHEN jsonb_typeof\(r\.data->'name'->'familyName'\) = 'string'/);
    assert.match(sort(`${ACME}:level`), /::numeric END\)$/);
  });
  it('sorts multi-valued attributes by the primary (else first) value, and runs', async () => {
    for (const by of ['emails', 'emails.value', 'userName', 'name.givenName', `${ACME}:hired`, `${ACME}:vip`, 'groups.display', 'meta.version']) {
      const params: unknown[] = [TENANT];
      const expr = compileSort(by, { rs: userRs, alias: 'r', params });
      const res = await db.query(`SELECT r.id FROM scim_users r WHERE r.tenant_id = $1 ORDER BY ${expr} ASC NULLS LAST, r.id`, params);
      assert.equal(res.rows.length, users.length, by);
    }
    const params: unknown[] = [TENANT];
    const expr = compileSort('emails', { rs: userRs, alias: 'r', params });
    const res = await db.query<{ id: string; k: string | null }>(`SELECT r.id, ${expr} AS k FROM scim_users r WHERE r.tenant_id = $1`, params);
    for (const row of res.rows) {
      const u = users.find((x) => x.id === row.id)!;
      const list = (Array.isArray(u.data.emails) ? u.data.emails : u.data.emails ? [u.data.emails] : []) as { value: string; primary?: boolean }[];
      const want = (list.find((e) => e.primary === true) ?? list[0])?.value.toLowerCase() ?? null;
      assert.equal(row.k, want, u.id);
    }
  });
  it('unknown or malformed sortBy is invalidValue naming it', () => {
    for (const by of ['nosuch', 'name', 'a b', 'emails[type eq "x"]', 'password']) {
      assert.throws(() => sort(by), (e: unknown) => e instanceof InvalidValueError && e.message.includes(by), by);
    }
  });
});
