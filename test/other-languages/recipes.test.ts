// The recipes of docs/integration.md "Host products in other languages" and clients/python, run by
// their own interpreters (python3, java) against a real server: a real webhook delivery (body and
// idpbridge-signature header as received), a real idpbridge sign-in token with the JWKS served over
// HTTP, and the /v1 API with a real API key. Each must accept the genuine input and refuse tampered
// ones. Cases skip, with the reason, only where python3, PyJWT or a JDK is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { admin, FAST_WORKER, Receiver, scim, userBody, waitFor } from '../events/helpers.js';
import { signPayload } from '../../src/events/signature.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const DOC = join(ROOT, 'docs', 'integration.md');
const DRIVER = join(HERE, 'client_driver.py');
const RECIPES = ['python-webhook', 'python-token', 'java-webhook'] as const;
type RecipeName = (typeof RECIPES)[number];

/** `<!-- recipe: NAME -->` then a fenced block: the program, verbatim. */
function recipes(markdown: string): Map<string, { lang: string; source: string }> {
  const out = new Map<string, { lang: string; source: string }>();
  const re = /<!--\s*recipe:\s*([\w-]+)\s*-->\s*\n(`{3,})([\w-]*)[^\n]*\n([\s\S]*?)\n\2[ \t]*(?:\n|$)/g;
  for (const m of markdown.matchAll(re)) out.set(m[1]!, { lang: m[3]!, source: `${m[4]!}\n` });
  return out;
}

// ---- interpreters (detected once, before any server runs) ----
const works = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? r.stdout : undefined;
};
const pythons = [...new Set([process.env.IDPBRIDGE_TEST_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p))];
/** Any python3 (standard library recipes). */
const python = pythons.find((p) => works(p, ['-c', 'import hmac, hashlib, json']) !== undefined);
/** A python3 with PyJWT and cryptography (Debian's python3-jwt / python3-cryptography live in /usr/bin/python3). */
const pythonJwt = pythons.find((p) => works(p, ['-c', 'import jwt, cryptography']) !== undefined);
/** `java File.java` needs a JDK (the jdk.compiler module), not only a JRE. */
const javaJdk = /\bjdk\.compiler\b/.test(works('java', ['--list-modules']) ?? '') && works('javac', ['-version']) !== undefined;
const skipPython = python ? false : 'python3 not found';
const skipPythonJwt = !python ? 'python3 not found'
  : pythonJwt ? false : `PyJWT/cryptography not importable by ${pythons.join(' or ')} (apt-get install python3-jwt python3-cryptography)`;
const skipJava = javaJdk ? false : 'java and javac of a JDK not found (apt-get install default-jdk-headless)';

interface Run { code: number; stdout: string; stderr: string }
/** Asynchronous: the child calls the in-process server, so the event loop must keep running. */
function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env }, cwd, timeout: 90_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
const show = (r: Run) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('docs/integration.md carries the recipes', () => {
  test('python-webhook, python-token and java-webhook are marked and complete', () => {
    const found = recipes(readFileSync(DOC, 'utf8'));
    for (const name of RECIPES) assert.ok(found.get(name)?.source.trim(), `<!-- recipe: ${name} --> with a fenced block`);
    assert.equal(found.get('python-webhook')!.lang, 'python');
    assert.equal(found.get('python-token')!.lang, 'python');
    assert.equal(found.get('java-webhook')!.lang, 'java');
    assert.match(found.get('python-webhook')!.source, /hmac\.compare_digest/);
    assert.doesNotMatch(found.get('python-webhook')!.source, /^\s*(import|from)\s+(jwt|requests)\b/m, 'standard library only');
    assert.match(found.get('python-token')!.source, /algorithms=\[/);
    assert.match(found.get('java-webhook')!.source, /MessageDigest\.isEqual/);
    assert.doesNotMatch(found.get('java-webhook')!.source, /^import\s+(?!java\.|javax\.)/m, 'JDK only');
  });
});

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

eachDatabase((kind) => {
  describe('recipes and clients/python against a real server', { timeout: 120_000 }, () => {
    let t: TestApp;
    let base = '';
    let dir = '';
    const receiver = new Receiver(() => (t ? [t.tenantId] : []));
    const source = recipes(readFileSync(DOC, 'utf8'));
    const files = {} as Record<RecipeName, string>;
    // The genuine inputs, obtained from the running server.
    let secret = '';
    let body = '';
    let signature = '';
    let token = '';
    let claims: Record<string, any> = {};
    let jwksUrl = '';
    let apiKey = '';
    let guestId = '';
    const otherSecret = 'whsec_not-the-webhook-secret-0123456789';
    const GUEST = 'grace@partner.example';
    const REDIRECT = 'http://127.0.0.1:9/auth/callback';

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'idpb-recipes-'));
      for (const name of RECIPES) {
        const r = source.get(name);
        if (!r) continue; // the doc test above fails
        files[name] = join(dir, name === 'java-webhook' ? 'VerifyWebhook.java' : `${name.replace('-', '_')}.py`);
        writeFileSync(files[name], r.source);
      }
      await receiver.start();
      t = await startTestApp(kind, { ...FAST_WORKER, accessCacheTtlMs: 0 });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      const T = `/tenants/${t.tenantId}`;
      const ok = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
        const r = await admin(t.app, method, url, payload);
        assert.ok(r.status < 300, `${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      };

      // A webhook to the receiver, and a provisioned user: a real, signed delivery.
      secret = (await ok('POST', `${T}/webhooks`, { url: receiver.url, events: ['user.*'] })).secret;
      assert.match(secret, /^whsec_/);
      const created = await scim(t.app, t.scimToken, t.scimBase)('POST', '/Users', userBody('ada@acme.example'));
      assert.equal(created.status, 201);
      const got = await waitFor('a webhook delivery', () => receiver.received.find((r) => r.type === 'user.created'), 20_000);
      body = got.body;
      signature = String(got.headers['idpbridge-signature']);
      assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}/);

      // A guest with a built-in password signs in: a real idpbridge token; its API key calls /v1.
      guestId = (await ok('POST', `${T}/users`, { userName: GUEST, displayName: 'Grace' })).id;
      await ok('PUT', `${T}/users/${guestId}/login-method`, { method: 'password', password: 'correct horse battery staple' });
      await ok('POST', `${T}/sso/redirect-uris`, { uri: REDIRECT });
      const ledger = await ok('POST', `${T}/datasets`, { name: 'Ledger', externalId: 'acct-ledger' });
      await ok('POST', `${T}/datasets`, { name: 'HR files', externalId: 'hr-files' });
      const ag = await ok('POST', `${T}/access-groups`, { name: 'Partners' });
      await ok('POST', `${T}/access-groups/${ag.id}/datasets`, { datasetId: ledger.id });
      await ok('POST', `${T}/access-groups/${ag.id}/members`, { identityId: guestId });
      apiKey = (await ok('POST', `${T}/users/${guestId}/api-keys`, { name: 'python client' })).key;
      // Over HTTP (not inject): the URLs are built from the request's host, as a host product sees them.
      const sso = await fetch(`${base}/admin/v1${T}/sso`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal(sso.status, 200);
      jwksUrl = (await sso.json() as { jwksUrl: string }).jwksUrl;
      const signIn = await fetch(`${base}/sso/${t.tenantId}/password-login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userName: GUEST, password: 'correct horse battery staple', redirect_uri: REDIRECT }),
      });
      assert.equal(signIn.status, 200, await signIn.clone().text());
      token = (await signIn.json() as { token: string }).token;
      // Issuer and audience are read from the real token: whatever scheme the server uses, the
      // recipes are given the values a host product would configure.
      claims = decodeJwt(token) as Record<string, any>;
      assert.equal(claims.sub, guestId);
      assert.ok(typeof claims.iss === 'string' && claims.iss, 'iss');
      assert.ok(claims.aud, 'aud');
      assert.ok(jwksUrl.startsWith('http://127.0.0.1:'), jwksUrl);
    });

    after(async () => {
      await t?.close();
      await receiver.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const audience = () => (Array.isArray(claims.aud) ? claims.aud[0] : claims.aud) as string;
    /** Body, header pairs: the genuine delivery and forgeries, with the verdict each must get. */
    const webhookCases = () => {
      const ts = Number(/t=(\d+)/.exec(signature)![1]);
      const now = Math.floor(Date.now() / 1000);
      const v1Of = (h: string) => /v1=([0-9a-f]+)/.exec(h)![1]!;
      const tampered = body.replace('"type":"user.created"', '"type":"user.deleted"');
      assert.notEqual(tampered, body);
      return [
        { name: 'the genuine delivery', body, header: signature, accept: true },
        { name: 'a rotation header (another v1 first)', body, header: `t=${ts},v1=${v1Of(signPayload(otherSecret, body, ts))},v1=${v1Of(signature)}`, accept: true },
        { name: 'a tampered body', body: tampered, header: signature, accept: false },
        { name: 'a signature with another secret', body, header: signPayload(otherSecret, body, ts), accept: false },
        { name: 'a stale timestamp', body, header: signPayload(secret, body, now - 3600), accept: false },
        { name: 'a timestamp from the future', body, header: signPayload(secret, body, now + 3600), accept: false },
        { name: 'no v1', body, header: `t=${ts}`, accept: false },
      ];
    };

    /** The genuine token and forgeries; env overrides for wrong expectations. */
    const tokenCases = async () => {
      const [h, p] = token.split('.') as [string, string, string];
      const header = decodeProtectedHeader(token);
      const foreign = await generateKeyPair('ES256');
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: header.kid!, typ: 'JWT' }).sign(foreign.privateKey);
      const jwks = await (await fetch(jwksUrl)).json() as { keys: Record<string, unknown>[] };
      const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: header.kid!, typ: 'JWT' })
        .sign(new TextEncoder().encode(JSON.stringify(jwks.keys.find((k) => k.kid === header.kid))));
      return [
        { name: 'the genuine token', token, env: {}, accept: true },
        { name: 'a tampered payload (another subject)', token: `${h}.${b64url({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })}.${token.split('.')[2]}`, env: {}, accept: false },
        { name: 'a token signed by another key with the same kid', token: forged, env: {}, accept: false },
        { name: 'alg none', token: `${b64url({ alg: 'none', kid: header.kid, typ: 'JWT' })}.${p}.`, env: {}, accept: false },
        { name: 'HS256 keyed with the public key', token: hs, env: {}, accept: false },
        { name: 'another audience expected', token, env: { IDPBRIDGE_AUDIENCE: 'https://other.example/callback' }, accept: false },
        { name: 'another issuer expected', token, env: { IDPBRIDGE_ISSUER: 'https://other-idpbridge.example' }, accept: false },
      ];
    };

    test('Python recipe: webhook signatures with hmac', { skip: skipPython }, async () => {
      const cases = webhookCases();
      const results = await Promise.all(cases.map((c, i) => {
        const bodyFile = join(dir, `py-body-${i}.json`);
        writeFileSync(bodyFile, c.body);
        return run(python!, [files['python-webhook'], bodyFile, c.header], { IDPBRIDGE_WEBHOOK_SECRET: secret });
      }));
      for (const [i, c] of cases.entries()) {
        const r = results[i]!;
        assert.equal(r.code, c.accept ? 0 : 1, `${c.name}: ${show(r)}`);
        if (c.accept) assert.match(r.stdout, /user\.created/, c.name);
        else assert.equal(r.stderr.trim(), 'invalid signature', `${c.name}: refused, not crashed: ${show(r)}`);
      }
    });

    test('Java recipe: webhook signatures with javax.crypto.Mac', { skip: skipJava }, async () => {
      // The documented command (`java VerifyWebhook.java …`, compiled in memory) for the genuine
      // delivery; the forgeries run the same source compiled once with javac (a JVM compile per case
      // would take seconds each).
      const cases = webhookCases().filter((c) => ['the genuine delivery', 'a rotation header (another v1 first)', 'a tampered body', 'a stale timestamp', 'a signature with another secret'].includes(c.name));
      const classes = join(dir, 'classes');
      const [compiled, ...results] = await Promise.all([
        run('javac', ['-d', classes, files['java-webhook']]),
        ...cases.slice(0, 1).map((c) => {
          const bodyFile = join(dir, 'java-body-0.json');
          writeFileSync(bodyFile, c.body);
          return run('java', [files['java-webhook'], bodyFile, c.header], { IDPBRIDGE_WEBHOOK_SECRET: secret }, dir);
        }),
      ]);
      assert.equal(compiled!.code, 0, `javac: ${show(compiled!)}`);
      for (const [i, c] of cases.entries()) {
        if (i === 0) continue;
        const bodyFile = join(dir, `java-body-${i}.json`);
        writeFileSync(bodyFile, c.body);
        results.push(await run('java', ['-cp', classes, 'VerifyWebhook', bodyFile, c.header], { IDPBRIDGE_WEBHOOK_SECRET: secret }, dir));
      }
      cases.forEach((c, i) => {
        const r = results[i]!;
        assert.equal(r.code, c.accept ? 0 : 1, `${c.name}: ${show(r)}`);
        if (c.accept) assert.match(r.stdout, /genuine delivery/, c.name);
        else assert.equal(r.stderr.trim(), 'invalid signature', `${c.name}: refused, not crashed: ${show(r)}`);
      });
    });

    test('Python recipe: idpbridge sign-in tokens with PyJWT', { skip: skipPythonJwt }, async () => {
      const env = { IDPBRIDGE_JWKS_URL: jwksUrl, IDPBRIDGE_ISSUER: claims.iss as string, IDPBRIDGE_AUDIENCE: audience(), IDPBRIDGE_TENANT_ID: t.tenantId };
      const cases = await tokenCases();
      const results = await Promise.all(cases.map((c, i) => {
        const tokenFile = join(dir, `token-${i}.txt`);
        writeFileSync(tokenFile, c.token);
        return run(pythonJwt!, [files['python-token'], tokenFile], { ...env, ...c.env });
      }));
      for (const [i, c] of cases.entries()) {
        const r = results[i]!;
        assert.equal(r.code, c.accept ? 0 : 1, `${c.name}: ${show(r)}`);
        if (c.accept) assert.equal(r.stdout.trim(), `${guestId} ${GUEST}`);
        else assert.match(r.stderr, /^token refused: /, `${c.name}: refused, not crashed: ${show(r)}`);
      }
      const tokenFile = join(dir, 'token-0.txt');
      const otherTenant = await run(pythonJwt!, [files['python-token'], tokenFile], { ...env, IDPBRIDGE_TENANT_ID: '00000000-0000-4000-8000-000000000000' });
      assert.equal(otherTenant.code, 1, `expected tenant differs: ${show(otherTenant)}`);
      assert.match(otherTenant.stderr, /^token refused: token of another tenant/, show(otherTenant));
    });

    test('clients/python: authorize and me against /v1, webhook verification', { skip: skipPython }, async () => {
      const wh = webhookCases();
      const calls = [
        { fn: 'authorize', args: [base, t.tenantId, apiKey, 'acct-ledger'] },
        { fn: 'authorize', args: [base, t.tenantId, apiKey, 'HR files'] },
        { fn: 'authorize', args: [base, t.tenantId, apiKey, 'no such dataset'] },
        { fn: 'me', args: [base, t.tenantId, apiKey] },
        { fn: 'authorize', args: [base, t.tenantId, 'idpb_key_wrong', 'acct-ledger'] },
        ...wh.map((c) => ({ fn: 'verify_webhook', args: [secret, { 'Idpbridge-Signature': c.header, 'Content-Type': 'application/json' }, c.body, 300] })),
        { fn: 'verify_webhook', args: [[otherSecret, secret], { 'idpbridge-signature': signature }, body, 300] },
        { fn: 'verify_webhook', args: [[otherSecret], { 'idpbridge-signature': signature }, body, 300] },
        { fn: 'verify_webhook', args: [secret, {}, body, 300] },
      ];
      const callsFile = join(dir, 'calls.json');
      writeFileSync(callsFile, JSON.stringify(calls));
      const r = await run(python!, [DRIVER, callsFile]);
      assert.equal(r.code, 0, show(r));
      const out = JSON.parse(r.stdout) as { result?: any; error?: string; status?: number; code?: string }[];
      assert.equal(out.length, calls.length);
      const [granted, notGranted, missing, who, badKey, ...verdicts] = out;
      assert.deepEqual([granted!.result.allowed, granted!.result.reason, granted!.result.dataset.name], [true, 'granted', 'Ledger']);
      assert.deepEqual([notGranted!.result.allowed, notGranted!.result.reason], [false, 'not_granted']);
      assert.deepEqual([missing!.result.allowed, missing!.result.reason], [false, 'dataset_not_found']);
      assert.equal(who!.result.identity.userName, GUEST);
      assert.deepEqual(who!.result.accessGroups.map((g: { name: string }) => g.name), ['Partners']);
      assert.equal(who!.result.credential.type, 'api_key');
      assert.equal(badKey!.error, 'IdpbridgeError', JSON.stringify(badKey));
      assert.equal(badKey!.status, 401);
      assert.match(String(badKey!.code), /^ERR_/);
      const expected = [...wh.map((c) => c.accept), true, false, false];
      assert.deepEqual(verdicts.map((v) => v.result), expected, JSON.stringify(verdicts));
    });

    test('clients/python: verify_token with PyJWT', { skip: skipPythonJwt }, async () => {
      const cases = await tokenCases();
      const calls = cases.map((c) => ({
        fn: 'verify_token',
        args: [c.token, jwksUrl, (c.env as Record<string, string>).IDPBRIDGE_ISSUER ?? claims.iss, (c.env as Record<string, string>).IDPBRIDGE_AUDIENCE ?? audience()],
      }));
      const callsFile = join(dir, 'token-calls.json');
      writeFileSync(callsFile, JSON.stringify(calls));
      const r = await run(pythonJwt!, [DRIVER, callsFile]);
      assert.equal(r.code, 0, show(r));
      const out = JSON.parse(r.stdout) as { result?: any; error?: string; message?: string }[];
      cases.forEach((c, i) => {
        const o = out[i]!;
        if (c.accept) {
          assert.equal(o.result?.sub, guestId, `${c.name}: ${JSON.stringify(o)}`);
          assert.equal(o.result.tenant ?? t.tenantId, t.tenantId);
          assert.equal(o.result.identity.userName, GUEST);
        } else {
          assert.equal(o.error, 'TokenVerificationError', `${c.name}: ${JSON.stringify(o)}`);
        }
      });
    });
  });
});
