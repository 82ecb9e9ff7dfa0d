// The packages install and run without the repository: `npm pack` of idpbridge, installed from its
// tarball into an empty directory (production dependencies only), started with `npx idpbridge
// serve` on PGlite; and `npm pack` of @idpbridge/client, installed into an empty project and used
// from ESM, from CommonJS and from TypeScript. Slow (a build and two installs): `npm run
// test:packaging`, which .ci/run runs once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.js';

const ADMIN_TOKEN = 'idpb_admin_packaging-test-0123456789abcdef';
let work: string;

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { cwd: string }): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 300_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

/** `npm pack --json` without lifecycle scripts (the copy is already built); returns the tarball's path and its file list. */
function pack(dir: string, dest: string): { file: string; size: number; unpackedSize: number; files: string[] } {
  const out = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], { cwd: dir })) as {
    filename: string; size: number; unpackedSize: number; files: { path: string }[];
  }[];
  const p = out[0]!;
  return { file: join(dest, p.filename), size: p.size, unpackedSize: p.unpackedSize, files: p.files.map((f) => f.path) };
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} kB`;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'idpbridge-packaging-'));
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('idpbridge: npm pack → npm install <tarball> in an empty directory → npx idpbridge serve', async (t) => {
  // Build a copy of the sources, so the repository's dist/ (used by other tests) is left alone.
  const src = join(work, 'server-src');
  mkdirSync(src);
  for (const f of ['package.json', 'README.md', 'SECURITY.md', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'web']) {
    cpSync(join(ROOT, f), join(src, f), { recursive: true, filter: (p) => !p.includes('/node_modules') && !p.endsWith('/dist') });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  run('npm', ['run', 'build'], { cwd: src });
  const pkg = pack(src, work);
  t.diagnostic(`idpbridge tarball ${kb(pkg.size)} (unpacked ${kb(pkg.unpackedSize)}), ${pkg.files.length} files`);

  // What is in it: compiled server, console assets, migrations, the bin; no sources, tests, maps.
  for (const f of ['package.json', 'bin/idpbridge.js', 'dist/main.js', 'dist/cli.js', 'dist/app.js', 'dist/web/index.html', 'src/db/migrations/001_foundation.sql']) {
    assert.ok(pkg.files.includes(f), `the package contains ${f}`);
  }
  assert.ok(pkg.files.some((f) => /^dist\/web\/assets\/.+\.js$/.test(f)), 'the package contains the console scripts');
  const stray = pkg.files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts') || /\.map$/.test(f) || /^(test|bench|web|scripts|clients)\//.test(f) || /\.test\.js$/.test(f));
  assert.deepEqual(stray, [], 'no sources, tests or source maps in the package');
  const manifest = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  for (const hook of ['preinstall', 'install', 'postinstall']) assert.equal(manifest.scripts[hook], undefined, `no ${hook} script: nothing is built at install`);

  // An empty directory: install the tarball with production dependencies only.
  const app = join(work, 'server-app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'idpbridge-deployment', private: true, version: '1.0.0' }));
  run('npm', ['install', pkg.file, '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app });
  assert.throws(() => statSync(join(app, 'node_modules/typescript')), 'no devDependencies installed');
  assert.throws(() => statSync(join(app, 'node_modules/vite')), 'no devDependencies installed');

  const port = await freePort();
  const dataDir = join(work, 'server-data');
  const child = spawn('npx', ['--no-install', 'idpbridge', 'serve'], {
    cwd: app,
    env: {
      ...process.env, HOST: '127.0.0.1', PORT: String(port), IDPBRIDGE_DATA_DIR: dataDir, DATABASE_URL: '',
      IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn', NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npx idpbridge serve exited ${child.exitCode}:\n${out}`);
      const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`npx idpbridge serve did not answer /healthz in 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    const page = await fetch(`${base}/console/`);
    assert.equal(page.status, 200, 'the console is served from the package');
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, `the console page loads a script: ${html.slice(0, 300)}`);
    const asset = await fetch(new URL(script, `${base}/console/`));
    assert.equal(asset.status, 200, `the console script ${script} is served`);

    const created = await fetch(`${base}/admin/v1/tenants`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Packaged' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const tenant = (await created.json()) as { id: string; scimBaseUrl: string };
    assert.match(tenant.scimBaseUrl, new RegExp(`/scim/v2/${tenant.id}$`));
    const token = await fetch(`${base}/admin/v1/tenants/${tenant.id}/scim-tokens`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(token.status, 201);
    const scim = await fetch(`${base}/scim/v2/${tenant.id}/Users?filter=${encodeURIComponent('userName eq "x"')}`, {
      headers: { authorization: `Bearer ${((await token.json()) as { token: string }).token}` },
    });
    assert.equal(scim.status, 200);
    assert.equal(((await scim.json()) as { totalResults: number }).totalResults, 0);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    if (code === 'timeout') process.kill(-child.pid!, 'SIGKILL');
  }
});

test('@idpbridge/client: npm pack → installed in an empty project → ESM, CommonJS and TypeScript', (t) => {
  const src = join(work, 'client-src');
  mkdirSync(src);
  for (const f of ['package.json', 'README.md', 'tsconfig.json', 'src']) cpSync(join(ROOT, 'clients/node', f), join(src, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: src });
  const pkg = pack(src, work);
  t.diagnostic(`@idpbridge/client tarball ${kb(pkg.size)} (unpacked ${kb(pkg.unpackedSize)}), ${pkg.files.length} files`);
  assert.ok(pkg.files.includes('dist/index.js') && pkg.files.includes('dist/index.d.ts'), 'compiled code and its types');
  assert.deepEqual(pkg.files.filter((f) => f.startsWith('src/') || f.endsWith('.map')), [], 'no sources or maps');

  const app = join(work, 'client-app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'host-product', private: true, version: '1.0.0' }));
  run('npm', ['install', pkg.file, '--no-audit', '--no-fund', '--offline'], { cwd: app });

  const probe = `
    const ok = typeof m.IdpbridgeClient === 'function' && typeof m.verifyWebhookSignature === 'function' && typeof m.IdpbridgeTokenVerifier === 'function';
    const { createHmac } = CRYPTO;
    const t = Math.floor(Date.now() / 1000);
    const header = 't=' + t + ',v1=' + createHmac('sha256', 'whsec_x').update(t + '.{"a":1}').digest('hex');
    const client = new m.IdpbridgeClient({ baseUrl: 'http://127.0.0.1:1' });
    console.log(JSON.stringify({ ok, verified: m.verifyWebhookSignature('whsec_x', '{"a":1}', header), tenant: typeof client.tenant('t').authorize }));`;
  writeFileSync(join(app, 'esm.mjs'), `import * as m from '@idpbridge/client';\nimport * as CRYPTO from 'node:crypto';\n${probe}\n`);
  writeFileSync(join(app, 'cjs.cjs'), `const m = require('@idpbridge/client');\nconst CRYPTO = require('node:crypto');\n${probe}\n`);
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const res = JSON.parse(run(process.execPath, [file], { cwd: app }).trim().split('\n').pop()!) as { ok: boolean; verified: boolean; tenant: string };
    assert.deepEqual(res, { ok: true, verified: true, tenant: 'function' }, file);
  }

  // TypeScript: the package's own types, strict, NodeNext resolution; a type error must be caught.
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
    },
    include: ['*.mts'],
  }));
  writeFileSync(join(app, 'host.mts'), `import { IdpbridgeClient, verifyWebhookSignature, type AuthorizeDecision, type IdpbridgeTokenClaims } from '@idpbridge/client';
const client = new IdpbridgeClient({ baseUrl: 'https://idpbridge.example.com', adminToken: 'x' });
export async function allowed(token: string): Promise<boolean> {
  const d: AuthorizeDecision = await client.tenant('t').authorize(token, 'ledger');
  return d.allowed && verifyWebhookSignature('s', '{}', 't=1,v1=00');
}
export const userName = (c: IdpbridgeTokenClaims): string => c.identity.userName;
`);
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
  writeFileSync(join(app, 'wrong.mts'), `import { IdpbridgeClient } from '@idpbridge/client';\nconst n: number = new IdpbridgeClient({ baseUrl: 'x' }).tenant('t');\nexport { n };\n`);
  const bad = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'a type error against the package types is reported');
  assert.match(bad.stdout + bad.stderr, /wrong\.mts/);
});
