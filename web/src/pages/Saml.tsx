import { useState } from 'react';
import { del, patch, post, tenantPath, type Connection } from '../api';
import { href, navigate, tpath } from '../router';
import { Badge, Confirm, CopyField, Empty, ErrorBox, Loading, PageHeader, Section, useAction, useGet } from '../ui';
import { ensureSignInTestRedirectUri, SignInTestOutcome, startSignInTest, useSignInTestResult } from '../signInTest';

/**
 * SAML sign-in set-up: the tenant's connections (OIDC and SAML), a new SAML connection, and for one
 * connection the values the IdP needs (copy buttons), the IdP's metadata (pasted or by URL), its
 * options, and "Sign in to test".
 */
export function SamlPage({ tenantId, connectionId }: { tenantId: string; connectionId?: string }) {
  const list = useGet<Connection[]>(tenantPath(tenantId, '/connections'));
  const selected = connectionId ? list.data?.find((c) => c.id === connectionId) : undefined;
  return (
    <>
      <PageHeader title="SAML sign-in"
        intro="Let this organisation's users sign in through a SAML 2.0 IdP (Microsoft Entra ID, Okta, AD FS, Google Workspace…). Create a connection, give the IdP the values below, then paste the IdP's metadata." />
      {(list.loading && !list.data) || (connectionId && !selected && list.loading) ? <Loading what="the connections" />
        : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
        : connectionId && !selected ? <ErrorBox>This connection does not exist (any more). <a href={href(tpath(tenantId, '/saml'))}>All connections</a></ErrorBox>
        : selected ? <ConnectionDetail tenantId={tenantId} conn={selected} onChanged={list.reload} />
        : <><ConnectionList tenantId={tenantId} connections={list.data!} /><NewConnection tenantId={tenantId} onCreated={list.reload} /></>}
    </>
  );
}

function ConnectionList({ tenantId, connections }: { tenantId: string; connections: Connection[] }) {
  return (
    <Section title="Connections" id="connections">
      {connections.length === 0 ? <Empty title="No sign-in connection yet">Create a SAML connection below, or set up OIDC on the IdP integration page.</Empty> : (
        <div className="table-wrap">
          <table className="stack" data-testid="connections-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Domains</th><th scope="col">IdP</th><th scope="col">State</th></tr></thead>
            <tbody>
              {connections.map((c) => (
                <tr key={c.id}>
                  <td data-label="Name">
                    {c.type === 'saml'
                      ? <a href={href(tpath(tenantId, `/saml/${c.id}`))}>{c.name}</a>
                      : <a href={href(tpath(tenantId, '/integration'))}>{c.name}</a>}
                  </td>
                  <td data-label="Type">{c.type === 'saml' ? 'SAML 2.0' : 'OIDC'}</td>
                  <td data-label="Domains">{c.domains.length ? c.domains.join(', ') : <span className="muted">any</span>}</td>
                  <td data-label="IdP" className="mono">{c.saml?.idpEntityId ?? (c.type === 'oidc' ? 'see IdP integration' : '—')}</td>
                  <td data-label="State">{c.type === 'oidc' ? <Badge tone="info">OIDC</Badge> : c.saml?.ready ? <Badge tone="ok">Ready</Badge> : <Badge tone="warn">Needs IdP metadata</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

const splitDomains = (s: string) => s.split(/[\s,]+/).map((d) => d.trim().toLowerCase()).filter(Boolean);

/** The IdP's metadata: pasted XML or a URL idpbridge fetches now. Empty fields send nothing. */
function MetadataFields({ idPrefix, value, onChange }: {
  idPrefix: string; value: { mode: 'xml' | 'url'; xml: string; url: string }; onChange: (v: { mode: 'xml' | 'url'; xml: string; url: string }) => void;
}) {
  return (
    <fieldset className="full">
      <legend>IdP metadata</legend>
      <label className="radio"><input type="radio" name={`${idPrefix}-md`} checked={value.mode === 'xml'} onChange={() => onChange({ ...value, mode: 'xml' })} /> Paste the metadata XML (Entra: Federation Metadata XML; Okta: the metadata document)</label>
      <label className="radio"><input type="radio" name={`${idPrefix}-md`} checked={value.mode === 'url'} onChange={() => onChange({ ...value, mode: 'url' })} /> Give the metadata URL (Entra: App Federation Metadata Url; Okta: Metadata URL)</label>
      {value.mode === 'xml' ? (
        <div className="field">
          <label htmlFor={`${idPrefix}-xml`}>Metadata XML</label>
          <textarea id={`${idPrefix}-xml`} rows={6} className="mono" spellCheck={false} value={value.xml} onChange={(e) => onChange({ ...value, xml: e.target.value })}
            placeholder='<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="…">' />
        </div>
      ) : (
        <div className="field">
          <label htmlFor={`${idPrefix}-url`}>Metadata URL</label>
          <input id={`${idPrefix}-url`} type="url" className="mono" value={value.url} onChange={(e) => onChange({ ...value, url: e.target.value })}
            placeholder="https://login.microsoftonline.com/<tenant>/federationmetadata/2007-06/federationmetadata.xml?appid=…" />
          <p className="help">Fetched once, now. Paste it again (or give the URL again) when the IdP's certificate changes.</p>
        </div>
      )}
    </fieldset>
  );
}

const metadataBody = (m: { mode: 'xml' | 'url'; xml: string; url: string }) =>
  m.mode === 'xml' ? (m.xml.trim() ? { idpMetadataXml: m.xml.trim() } : {}) : (m.url.trim() ? { idpMetadataUrl: m.url.trim() } : {});

function NewConnection({ tenantId, onCreated }: { tenantId: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [domains, setDomains] = useState('');
  const [md, setMd] = useState<{ mode: 'xml' | 'url'; xml: string; url: string }>({ mode: 'xml', xml: '', url: '' });
  const [idpInitiated, setIdpInitiated] = useState(false);
  const [jit, setJit] = useState(false);
  const create = useAction();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const c = await create.run(() => post<Connection>(tenantPath(tenantId, '/connections'), {
      type: 'saml', name: name.trim() || 'SAML', domains: splitDomains(domains), ...metadataBody(md), allowIdpInitiated: idpInitiated, jitProvisioning: jit,
    }));
    if (c) { onCreated(); navigate(tpath(tenantId, `/saml/${c.id}`)); }
  };

  return (
    <Section title="New SAML connection" id="new-saml">
      <p className="help">The IdP's metadata can wait: create the connection first if your IdP asks for the ACS URL and Entity ID before it shows its metadata (Okta does).</p>
      <form className="grid-form" onSubmit={submit} aria-busy={create.busy}>
        <div className="field">
          <label htmlFor="saml-name">Name</label>
          <input id="saml-name" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="Contoso Entra ID" />
        </div>
        <div className="field">
          <label htmlFor="saml-domains">E-mail domains <span className="muted">(optional)</span></label>
          <input id="saml-domains" value={domains} onChange={(e) => setDomains(e.target.value)} placeholder="contoso.com, contoso.de" aria-describedby="saml-domains-help" />
          <p className="help" id="saml-domains-help">Sign-in by e-mail address picks this connection for these domains (once verified).</p>
        </div>
        <MetadataFields idPrefix="new" value={md} onChange={setMd} />
        <Options idpInitiated={idpInitiated} setIdpInitiated={setIdpInitiated} jit={jit} setJit={setJit} />
        <ErrorBox>{create.error}</ErrorBox>
        <div className="form-actions full">
          <button type="submit" className="primary" disabled={create.busy}>{create.busy ? 'Creating…' : 'Create SAML connection'}</button>
        </div>
      </form>
    </Section>
  );
}

function Options({ idpInitiated, setIdpInitiated, jit, setJit }: { idpInitiated: boolean; setIdpInitiated: (v: boolean) => void; jit: boolean; setJit: (v: boolean) => void }) {
  return (
    <div className="full">
      <label className="check-row"><input type="checkbox" checked={idpInitiated} onChange={(e) => setIdpInitiated(e.target.checked)} />
        <span><b>Allow IdP-initiated sign-in</b><br /><span className="help">Users may start from the IdP's app tile. Set the app's default RelayState to one of your registered redirect URIs. Off: sign-in starts from the application only.</span></span></label>
      <label className="check-row"><input type="checkbox" checked={jit} onChange={(e) => setJit(e.target.checked)} />
        <span><b>Just-in-time provisioning</b><br /><span className="help">For organisations without SCIM: the first sign-in creates the user from the assertion, later sign-ins update it.</span></span></label>
    </div>
  );
}

function ConnectionDetail({ tenantId, conn, onChanged }: { tenantId: string; conn: Connection; onChanged: () => void }) {
  const s = conn.saml!;
  const path = tenantPath(tenantId, `/connections/${conn.id}`);
  const [name, setName] = useState(conn.name);
  const [domains, setDomains] = useState(conn.domains.join(', '));
  const [md, setMd] = useState<{ mode: 'xml' | 'url'; xml: string; url: string }>({ mode: s.idpMetadataUrl ? 'url' : 'xml', xml: '', url: s.idpMetadataUrl ?? '' });
  const [idpInitiated, setIdpInitiated] = useState(s.allowIdpInitiated);
  const [jit, setJit] = useState(s.jitProvisioning);
  const [saved, setSaved] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const save = useAction();
  const remove = useAction();

  // Any edit hides "Saved." until the next save.
  const edit = <T,>(set: (v: T) => void) => (v: T) => { setSaved(false); set(v); };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const r = await save.run(() => patch<Connection>(path, {
      name: name.trim() || conn.name, domains: splitDomains(domains), allowIdpInitiated: idpInitiated, jitProvisioning: jit, ...metadataBody(md),
    }));
    if (r) { setMd({ ...md, xml: '' }); onChanged(); setSaved(true); }
  };

  return (
    <>
      <p><a href={href(tpath(tenantId, '/saml'))}>← All connections</a></p>
      <Section title={`1. Give your IdP these values: ${conn.name}`} id="sp-values">
        <p className="help">Entra ID: <i>Single sign-on → SAML → Basic SAML Configuration</i>: <b>Identifier (Entity ID)</b> and <b>Reply URL (Assertion Consumer Service URL)</b>. Okta: <b>Single sign-on URL</b> (the ACS URL) and <b>Audience URI (SP Entity ID)</b>. IdPs that read SP metadata take the metadata URL.</p>
        <CopyField label="ACS URL (Reply URL, HTTP-POST)" value={s.acsUrl} testId="saml-acs-url" />
        <CopyField label="Entity ID (Identifier, Audience URI)" value={s.spEntityId} testId="saml-entity-id" />
        <CopyField label="SP metadata URL" value={s.metadataUrl} testId="saml-metadata-url" />
      </Section>
      <Section title="2. The IdP's metadata and options" id="idp-settings">
        <dl className="props" data-testid="saml-idp">
          <dt>State</dt><dd>{s.ready ? <Badge tone="ok">Ready</Badge> : <Badge tone="warn">Needs IdP metadata</Badge>}</dd>
          <dt>IdP entity ID</dt><dd className="mono">{s.idpEntityId ?? '—'}</dd>
          <dt>IdP sign-in URL</dt><dd className="mono">{s.idpSsoUrl ?? '—'}</dd>
          <dt>Signing certificates</dt><dd>{s.idpCertificates}{s.idpCertificates === 2 && ' (a rotation: both are trusted)'}</dd>
        </dl>
        <form className="grid-form" onSubmit={submit} aria-busy={save.busy}>
          <div className="field">
            <label htmlFor="saml-edit-name">Name</label>
            <input id="saml-edit-name" maxLength={200} value={name} onChange={(e) => edit(setName)(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="saml-edit-domains">E-mail domains</label>
            <input id="saml-edit-domains" value={domains} onChange={(e) => edit(setDomains)(e.target.value)} placeholder="contoso.com" />
          </div>
          <MetadataFields idPrefix="edit" value={md} onChange={edit(setMd)} />
          <Options idpInitiated={idpInitiated} setIdpInitiated={edit(setIdpInitiated)} jit={jit} setJit={edit(setJit)} />
          <ErrorBox>{save.error}</ErrorBox>
          <div className="form-actions full">
            <button type="submit" className="primary" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save connection'}</button>
            {saved && <span role="status" className="ok-text">Saved.</span>}
            <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>Delete…</button>
          </div>
        </form>
      </Section>
      <SignInTest tenantId={tenantId} conn={conn} />
      <Confirm open={confirmDelete} title="Delete this SAML connection?" confirmLabel="Delete connection" danger busy={remove.busy} error={remove.error}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={async () => {
          const ok = await remove.run(async () => { await del(path); return true; });
          if (ok) { setConfirmDelete(false); onChanged(); navigate(tpath(tenantId, '/saml')); }
        }}>
        <p>Users who sign in through “{conn.name}” can no longer sign in this way. Provisioned users and their access are kept.</p>
      </Confirm>
    </>
  );
}

function SignInTest({ tenantId, conn }: { tenantId: string; conn: Connection }) {
  const [state, setState] = useState<string>();
  const [registered, setRegistered] = useState(false);
  const start = useAction();
  const result = useSignInTestResult(state);
  const ready = conn.saml!.ready;

  const run = () => {
    setRegistered(false);
    const t = startSignInTest(conn.saml!.loginUrl, () => ensureSignInTestRedirectUri(tenantId).then(setRegistered));
    setState(t.state);
    void start.run(() => t.done);
  };

  return (
    <Section title="3. Sign in to test" id="saml-test">
      <p className="help">Signs you in through this connection in a new tab, exactly as the application will (SP-initiated), and shows who idpbridge resolved you to and what you get. Sign in at the IdP as a user assigned to the application.</p>
      {!ready && <p className="notice">Paste the IdP's metadata first.</p>}
      <button type="button" className="primary" onClick={run} disabled={!ready || start.busy}>Sign in to test</button>
      {registered && <p className="help" role="status">The console's test address was registered as a redirect URI of this tenant.</p>}
      <ErrorBox>{start.error}</ErrorBox>
      {state && !result && !start.error && <p className="muted" role="status">Waiting for the sign-in in the other tab…</p>}
      {result && <SignInTestOutcome result={result} />}
    </Section>
  );
}
