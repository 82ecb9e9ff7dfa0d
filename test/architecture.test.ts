// Keeps docs/architecture.md true: reads every import of src/ (tests excluded) and fails on an
// arrow the floor plan forbids or on an import cycle, naming the file and the rule it breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOWED, findCycles, forbiddenArrows, moduleOf, type Edge } from './architecture-rules.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  if (statSync(p).isDirectory()) return walk(p);
  return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
});

/** Relative imports and re-exports of one file, resolved to src-relative paths. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const out: Edge[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ from: relative(src, file), to: relative(src, target), typeOnly: Boolean(m[2]), line });
  }
  return out;
}

const files = walk(src);
const edges = files.flatMap(importsOf);

test('architecture: every module of src/ belongs to a floor of docs/architecture.md', () => {
  const unplaced = files.map((f) => relative(src, f)).filter((f) => moduleOf(f) === undefined);
  assert.deepEqual(unplaced, [], 'files outside every module of test/architecture-rules.ts');
});

test('architecture: imports go only where the floor plan allows', () => {
  assert.deepEqual(forbiddenArrows(edges), []);
});

test('architecture: no import cycle between files', () => {
  assert.deepEqual(findCycles(edges), []);
});

test('architecture: the rules catch a forbidden arrow and a cycle (the checker itself works)', () => {
  assert.equal(moduleOf('directory/users-store.ts'), 'directory');
  assert.equal(moduleOf('scim/filter/parse.ts'), 'scim-core');
  assert.equal(moduleOf('scim/resources/routes.ts'), 'scim');
  assert.ok(!ALLOWED.directory.includes('scim'), 'the directory must not import the SCIM HTTP layer');
  const upward = forbiddenArrows([{ from: 'directory/users-store.ts', to: 'scim/resources/routes.ts', typeOnly: false, line: 3 }]);
  assert.match(upward[0] ?? '', /src\/directory\/users-store.ts:3 imports src\/scim\/resources\/routes.ts: directory may not import scim/);
  assert.deepEqual(forbiddenArrows([{ from: 'admin/plugin.ts', to: 'app-deps.ts', typeOnly: true, line: 1 }]), []);
  assert.equal(forbiddenArrows([{ from: 'admin/plugin.ts', to: 'app-deps.ts', typeOnly: false, line: 1 }]).length, 1);
  assert.deepEqual(findCycles([{ from: 'a.ts', to: 'b.ts' }, { from: 'b.ts', to: 'c.ts' }, { from: 'c.ts', to: 'a.ts' }]), ['src/a.ts → src/b.ts → src/c.ts → src/a.ts']);
  assert.deepEqual(findCycles([{ from: 'a.ts', to: 'b.ts' }, { from: 'a.ts', to: 'c.ts' }, { from: 'c.ts', to: 'b.ts' }]), []);
  assert.ok(!ALLOWED.access.includes('admin'));
  // Every module named in a rule exists, and no module allows itself to import a module above the app.
  for (const [m, allowed] of Object.entries(ALLOWED)) {
    for (const b of allowed) assert.ok(b in ALLOWED, `${m} allows unknown module ${b}`);
    if (m !== 'app') assert.ok(!allowed.includes('app'), `${m} may not import the app`);
  }
});

test('architecture: docs/architecture.md states every rule the test enforces', () => {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  for (const [m, allowed] of Object.entries(ALLOWED)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${m}\` `));
    assert.ok(row, `docs/architecture.md has no row for ${m}`);
    const listed = (row.split('|')[3] ?? '').match(/`([a-z-]+)`/g)?.map((s) => s.slice(1, -1)) ?? [];
    assert.deepEqual([...listed].sort(), [...allowed].sort(), `docs/architecture.md row for ${m} lists other imports than the rules`);
  }
});
