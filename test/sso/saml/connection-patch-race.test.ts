// PATCH …/connections/{id} fetches IdP metadata by URL before it writes, without holding a row lock
// across the fetch. Two PATCHes of different fields, one waiting on a slow metadata URL while the
// other completes, both keep their change: the write merges the fields it was given into the row
// as it finds it under its lock. Each entry's `before` is what that write replaced, and the IdP
// metadata XML is on both sides of an entry (not `after` alone). Real HTTP; both databases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse, type Server } from 'node:http';
import { eachDatabase, startTestApp, ADMIN_TOKEN, type TestApp } from '../../helpers/app.js';
import { TestSamlIdp } from './helpers/idp.js';

eachDatabase((kind) => {
  let t: TestApp;
  let base: string;
  let metadataServer: Server;
  let metadataUrl: string;
  const first = new TestSamlIdp();
  const second = new TestSamlIdp({ entityId: 'https://idp.second.example/saml', ssoUrl: 'https://idp.second.example/saml/sso' });
  /** Metadata requests wait here until the test answers them. */
  let held: ((res: ServerResponse) => void) | undefined;
  let arrived: Promise<ServerResponse>;

  before(async () => {
    t = await startTestApp(kind);
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    metadataServer = createServer((_req, res) => { held?.(res); });
    await new Promise<void>((r) => metadataServer.listen(0, '127.0.0.1', r));
    metadataUrl = `http://127.0.0.1:${(metadataServer.address() as { port: number }).port}/metadata`;
  });
  after(async () => {
    await t?.close();
    await new Promise((r) => metadataServer?.close(r));
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const holdNextMetadataRequest = () => {
    arrived = new Promise((resolve) => { held = resolve; });
  };
  const entriesOf = async (tenantId: string, connectionId: string) =>
    ((await call('GET', `/tenants/${tenantId}/audit-log`)).body.entries as { action: string; target: { id: string } | null; changes: Record<string, { before?: unknown; after?: unknown }> }[])
      .filter((e) => e.action === 'connection.updated' && e.target?.id === connectionId);

  test('two concurrent PATCHes of different fields, one fetching metadata by URL: both changes stay', async () => {
    const { tenantId } = await t.newTenant('connection-patch-race');
    const created = await call('POST', `/tenants/${tenantId}/connections`, { type: 'saml', name: 'Before', idpMetadataXml: first.metadata() });
    assert.equal(created.status, 201, created.text);
    const url = `/tenants/${tenantId}/connections/${created.body.id}`;

    // A reads the connection, then waits on the metadata URL; B changes the name and domains meanwhile.
    holdNextMetadataRequest();
    const a = call('PATCH', url, { idpMetadataUrl: metadataUrl, allowIdpInitiated: true });
    const res = await arrived;
    const b = await call('PATCH', url, { name: 'Renamed', domains: ['b.example'] });
    assert.equal(b.status, 200, b.text);
    res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(second.metadata());
    const aDone = await a;
    assert.equal(aDone.status, 200, aDone.text);

    const now = (await call('GET', url)).body;
    assert.equal(now.name, 'Renamed', 'B\'s name survives A\'s write');
    assert.deepEqual(now.domains, ['b.example'], 'B\'s domains survive A\'s write');
    assert.equal(now.saml.idpMetadataUrl, metadataUrl);
    assert.equal(now.saml.idpEntityId, second.entityId);
    assert.equal(now.saml.allowIdpInitiated, true);
    assert.equal(now.saml.ready, true);
    assert.ok(now.saml.spSigningCertificate && now.saml.spEncryptionCertificate, 'the SP key pairs made at create stay');
    assert.equal(now.saml.spSigningCertificate, created.body.saml.spSigningCertificate);

    // Each entry's `before` is what its own write replaced: A's saw the first IdP's metadata.
    const entries = await entriesOf(tenantId, created.body.id);
    assert.equal(entries.length, 2);
    const ofA = entries.find((e) => 'idpMetadataUrl' in e.changes)!;
    const ofB = entries.find((e) => 'name' in e.changes)!;
    assert.deepEqual(ofA.changes.idpMetadataUrl, { before: null, after: metadataUrl });
    assert.deepEqual(ofA.changes.allowIdpInitiated, { before: false, after: true });
    assert.deepEqual(ofB.changes.name, { before: 'Before', after: 'Renamed' });
    assert.deepEqual(ofB.changes.domains, { before: [], after: ['b.example'] });
  });

  test('a PATCH of pasted IdP metadata records the XML it replaced beside the new one', async () => {
    const { tenantId } = await t.newTenant('connection-xml-audit');
    const created = await call('POST', `/tenants/${tenantId}/connections`, { type: 'saml', idpMetadataXml: first.metadata() });
    assert.equal(created.status, 201, created.text);
    const url = `/tenants/${tenantId}/connections/${created.body.id}`;
    assert.equal((await call('PATCH', url, { idpMetadataXml: second.metadata() })).status, 200);
    // The same XML again changes nothing: the entry leaves it out.
    assert.equal((await call('PATCH', url, { idpMetadataXml: second.metadata(), clockSkewSeconds: 60 })).status, 200);
    const [replaced, unchanged] = (await entriesOf(tenantId, created.body.id)).reverse();
    const xml = replaced!.changes.idpMetadataXml!;
    // Each side is the XML as stored (an entry cuts long values: their starts are compared).
    assert.ok(typeof xml.before === 'string' && xml.before.startsWith(first.metadata().slice(0, 1000)), 'before: the first IdP\'s XML');
    assert.ok(typeof xml.after === 'string' && xml.after.startsWith(second.metadata().slice(0, 1000)), 'after: the second IdP\'s XML');
    assert.ok(xml.before.includes(`entityID="${first.entityId}"`) && xml.after.includes(`entityID="${second.entityId}"`));
    assert.deepEqual(Object.keys(unchanged!.changes), ['clockSkewSeconds']);
  });
});
