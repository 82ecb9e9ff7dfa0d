#!/usr/bin/env node
// Runs every *.test.ts under src/, test/ and clients/node/test/ with node's test runner (TypeScript through tsx).
// The files are listed here (not globbed by --test) so that folders can be left out by default.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('-'));
// test/soak (crashes, PostgreSQL restarts: `npm run test:soak`) and test/packaging (npm pack +
// install of the server and the client: `npm run test:packaging`, run once by .ci/run) run only when named.
const onlyWhenNamed = [join('test', 'soak'), join('test', 'packaging')];
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  if (name === 'node_modules' || name.startsWith('.')) return [];
  if (onlyWhenNamed.includes(p) && !roots.some((r) => join(r) === p || join(r).startsWith(`${p}/`))) return [];
  return statSync(p).isDirectory() ? walk(p) : /\.test\.ts$/.test(name) ? [p] : [];
});
const files = (roots.length ? roots : ['src', 'test', 'clients/node/test']).flatMap((r) => (statSync(r).isDirectory() ? walk(r) : [r])).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const res = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=300000', '--test-force-exit', ...extra, ...files,
], { stdio: 'inherit', env: process.env });
process.exit(res.status ?? 1);
