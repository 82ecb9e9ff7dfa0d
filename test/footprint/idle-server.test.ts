// Issue 21, the idle server's footprint, on a real server process (src/main.ts) started on PGlite:
// - it does not load the SAML, certificate, mail, outbound HTTP and JWT libraries (~15 MB of RSS, more in a
//   fresh heap); they load with the first SAML request, SP key pair, e-mail, outbound request or token
//   verified or signed (test/sso/saml/, test/events/invitations.test.ts, test/idp-tokens/). The process
//   reports which npm packages it resolved.
// - it runs with its memory settings (src/main.ts#withMemorySettings): V8's semi-space size and,
//   on Linux, glibc's malloc trim threshold, unless the operator set their own.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, startServerProcess } from '../helpers/process.js';
import { MALLOC_TUNABLES, SEMI_SPACE_FLAG } from '../../src/main.js';

const LAZY = ['@node-saml/node-saml', 'xml-crypto', '@xmldom/xmldom', 'pkijs', 'asn1js', 'nodemailer', 'undici', 'jose'];
const dir = mkdtempSync(join(tmpdir(), 'idpb-idle-'));
const hook = pathToFileURL(join(ROOT, 'test/footprint/helpers/record-packages.mjs')).href;
const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

const start = (name: string, env: Record<string, string | undefined>) => startServerProcess({
  DATABASE_URL: '', IDPBRIDGE_DATA_DIR: join(dir, name), IDPBRIDGE_ADMIN_TOKEN: 'idpb_admin_idle-server-token-0123456789',
  IDPB_TEST_PACKAGES_DIR: dir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim(), ...env,
}, 60_000);

let loaded: string[] = [];
let tunables: string[] = [];
let args: string[] = [];
before(async () => {
  const srv = await start('a', { GLIBC_TUNABLES: undefined });
  try {
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    await sleep(1_000); // the outbox worker's first pass (it creates the mailer) is part of idling
    if (process.platform === 'linux') {
      tunables = environ(srv.child.pid!).filter((v) => v.startsWith('GLIBC_TUNABLES='));
      args = cmdline(srv.child.pid!);
    }
  } finally {
    assert.equal(await srv.kill('SIGTERM'), 0, srv.output());
  }
  loaded = JSON.parse(readFileSync(join(dir, `${srv.child.pid}.json`), 'utf8')) as string[];
});
after(() => rmSync(dir, { recursive: true, force: true }));

it('a started, idle server has not loaded the SAML, certificate, mail, outbound HTTP or JWT libraries', () => {
  assert.ok(loaded.includes('fastify'), `the recorder saw the server's packages: ${loaded.join(', ')}`);
  assert.deepEqual(LAZY.filter((p) => loaded.includes(p)), []);
});

it('on Linux, the server runs with its malloc tunables and semi-space size; an operator\'s own (even an empty GLIBC_TUNABLES) are kept', { skip: process.platform !== 'linux' }, async () => {
  assert.deepEqual(tunables, [`GLIBC_TUNABLES=${MALLOC_TUNABLES}`]);
  assert.ok(args.includes(SEMI_SPACE_FLAG), args.join(' '));
  const own = await start('b', { GLIBC_TUNABLES: '', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook} --max-semi-space-size=4`.trim() });
  try {
    assert.deepEqual(environ(own.child.pid!).filter((v) => v.startsWith('GLIBC_TUNABLES=')), ['GLIBC_TUNABLES=']);
    assert.ok(!cmdline(own.child.pid!).includes(SEMI_SPACE_FLAG), cmdline(own.child.pid!).join(' '));
  } finally {
    await own.kill('SIGTERM');
  }
});
