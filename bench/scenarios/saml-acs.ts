/**
 * SAML ACS: POST /sso/saml/{tenant}/{connection}/acs with a signed assertion, 32 concurrent, against
 * F-saml (floors/saml.ts: the same library validating the same responses in bare node:http);
 * target ≥ 60%.
 *
 * A response is single-use (idpbridge remembers each assertion ID until its NotOnOrAfter), so the
 * responses are made in advance, one per request, by a real SAML IdP (samlify with the test IdP's
 * keys, test/sso/saml/helpers/idp.ts): IdP-initiated (no InResponseTo; the connection opts in), with
 * the RelayState set to the host product's registered redirect URI. The floor validates the very same
 * responses (it keeps nothing); idpbridge then takes each once, through the whole sign-in: its own
 * checks, the replay record, the identity lookup, the access decision and the idpbridge token, with
 * the sign-in state in PostgreSQL. Every answer is checked to be a 303 to the host product with a token.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, loadAvg, runChild, startIdpbridge, startServer, type Server } from '../lib/proc.js';
import { api, createTenant } from '../lib/db.js';
import type { FormLoadResult, FormLoadSpec } from '../lib/form-post-child.js';
import type { BenchContext, Row, ScenarioResult } from '../lib/types.js';
import { certPem, TestSamlIdp } from '../../test/sso/saml/helpers/idp.js';

const REDIRECT_URI = 'https://app.bench.example/auth/callback';
const USER = 'saml.user@contoso.example';

/** Runs the fixed-amount form-post load against `server`, with its CPU per request and max RSS. */
async function loadForms(server: Server, spec: FormLoadSpec) {
  const c0 = server.cpuSeconds();
  const rss = server.sampleRss();
  const la = loadAvg();
  const r = await runChild<FormLoadResult>(join(BENCH_DIR, 'lib/form-post-child.ts'), [], { BENCH_FORM_LOAD: JSON.stringify(spec) });
  const cpu = server.cpuSeconds() - c0;
  return { ...r, cpuMsPerReq: Math.round((cpu * 1000 / Math.max(1, r.allRequests)) * 1000) / 1000, rssMaxMb: rss.stop().maxMb, loadAvg: la };
}

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes } = ctx;
  const warmup = ctx.quick ? 100 : 300;
  const amount = ctx.quick ? 600 : 3000;
  const dir = mkdtempSync(join(tmpdir(), 'idpb-bench-saml-'));
  let srv: Server | undefined;
  try {
    srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
    const t = await createTenant(srv, 'bench saml');
    const user = await api(srv, 'POST', `${t.scimBase}/Users`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: USER, externalId: 'bench-saml-oid-1', active: true }, t.token);
    await api(srv, 'POST', `${t.scimBase}/Groups`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Bench Readers', externalId: 'bench-saml-gid', members: [{ value: user.id }] }, t.token);
    const ds = await api(srv, 'POST', `/admin/v1/tenants/${t.id}/datasets`, { name: 'bench-dataset', externalId: 'ds-bench' });
    const ag = await api(srv, 'POST', `/admin/v1/tenants/${t.id}/access-groups`, { name: 'Bench Readers' });
    await api(srv, 'POST', `/admin/v1/tenants/${t.id}/access-groups/${ag.id}/datasets`, { datasetId: ds.id });
    await api(srv, 'POST', `/admin/v1/tenants/${t.id}/sso/redirect-uris`, { uri: REDIRECT_URI });

    const idp = new TestSamlIdp();
    const conn = await api(srv, 'POST', `/admin/v1/tenants/${t.id}/connections`, { type: 'saml', name: 'Bench SAML', idpMetadataXml: idp.metadata(), allowIdpInitiated: true });
    const spMetadata = await (await fetch(conn.saml.metadataUrl)).text();

    ctx.log(`  signing ${warmup + amount} SAML responses (samlify)`);
    const t0 = performance.now();
    const later = new Date(Date.now() + 60 * 60_000).toISOString();
    const lines: string[] = [];
    for (let i = 0; i < warmup + amount; i++) {
      const saml = await idp.response(spMetadata, {
        nameId: USER, attributes: { email: USER },
        values: { ConditionsNotOnOrAfter: later, SubjectConfirmationDataNotOnOrAfter: later },
      });
      lines.push(new URLSearchParams({ SAMLResponse: saml, RelayState: REDIRECT_URI }).toString());
    }
    const bodiesFile = join(dir, 'responses.txt');
    writeFileSync(bodiesFile, `${lines.join('\n')}\n`);
    ctx.log(`  signed in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Math.round(lines[0]!.length / 1024)} kB a post)`);
    const common = { bodiesFile, connections: sizes.connections, warmup, amount };

    // idpbridge first, while the responses are freshest; the floor validates the same ones after.
    ctx.log('  idpbridge ACS');
    const b = await loadForms(srv, { ...common, url: conn.saml.acsUrl });
    await srv.stop();
    srv = undefined;
    if (b.failed > 0) throw new Error(`idpbridge refused ${b.failed} of ${b.total} responses, first: ${b.firstFailure}`);

    ctx.log('  F-saml');
    const floor = await startServer({
      name: 'F-saml', script: join(BENCH_DIR, 'floors/saml.ts'), readyPath: '/',
      env: { FLOOR_IDP_CERTS: JSON.stringify([certPem('idp')]), FLOOR_ENTITY_ID: conn.saml.spEntityId, FLOOR_ACS_URL: conn.saml.acsUrl },
    });
    const f = await loadForms(floor, { ...common, url: `${floor.url}/acs` });
    await floor.stop();
    if (f.failed > 0) throw new Error(`F-saml refused ${f.failed} of ${f.total} responses, first: ${f.firstFailure}`);

    const row = (name: string, r: typeof b): Row => ({
      name, rps: r.rps, p50: r.p50, p99: r.p99, rssMaxMb: r.rssMaxMb, cpuMsPerReq: r.cpuMsPerReq, loadAvg: r.loadAvg, errors: r.errors, non2xx: r.failed,
      detail: `${r.total} distinct responses after ${warmup} warm-up`,
    });
    return {
      id: 'saml-acs',
      title: `SAML ACS (signed assertion, IdP-initiated, each response once), ${sizes.connections} concurrent, PostgreSQL`,
      rows: [row('F-saml (node:http + @node-saml/node-saml validatePostResponse)', f), row('idpbridge ACS (checks, replay record, identity, decision, token)', b)],
      verdicts: [{ label: 'idpbridge / F-saml', value: b.rps / f.rps, target: '≥ 0.60', pass: b.rps / f.rps >= 0.6 }],
      notes: [],
    };
  } finally {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
