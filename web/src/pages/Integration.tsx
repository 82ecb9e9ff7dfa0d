import { useEffect, useState } from 'react';
import { ApiError, del, get, post, put, tenantPath, type ScimToken, type Tenant } from '../api';
import type { Features } from '../App';
import { BasicCredential } from './Scim';
import { Badge, Confirm, CopyField, Empty, ErrorBox, Loading, PageHeader, SecretOnce, Section, Status, useAction, useGet, when } from '../ui';

export function IntegrationPage({ tenantId, features }: { tenantId: string; features: Features }) {
  const tenant = useGet<Tenant>(tenantPath(tenantId));
  const hasOidc = features.has('/admin/v1/tenants/{tenantId}/oidc');
  return (
    <>
      <PageHeader title="IdP integration"
        intro="Connect this organisation's identity provider (Microsoft Entra ID, Okta or any SCIM 2.0 / OIDC provider): SCIM provisioning brings users and groups in, OIDC lets idpbridge verify their tokens." />
      <Section title="1. SCIM provisioning" id="scim">
        <p className="help">In Entra: Enterprise application → Provisioning → Admin credentials: paste the <b>Tenant URL</b> and <b>Secret Token</b>, then <i>Test connection</i>. In Okta: SCIM 2.0 app → Provisioning → <b>SCIM 2.0 Base Url</b> and <b>OAuth Bearer Token</b>, then <i>Test API Credentials</i>.</p>
        {tenant.loading && !tenant.data ? <Loading what="the SCIM URL" />
          : tenant.error ? <ErrorBox onRetry={tenant.reload}>{tenant.error}</ErrorBox>
          : <CopyField label="SCIM base URL (Tenant URL)" value={tenant.data!.scimBaseUrl} testId="scim-base-url" />}
        <Tokens tenantId={tenantId} />
        {features.has('/admin/v1/tenants/{tenantId}/scim-basic') && <BasicCredential tenantId={tenantId} />}
      </Section>
      {hasOidc && <Oidc tenantId={tenantId} />}
    </>
  );
}

function Tokens({ tenantId }: { tenantId: string }) {
  const list = useGet<{ tokens: ScimToken[] }>(tenantPath(tenantId, '/scim-tokens'));
  const [name, setName] = useState('');
  const [shown, setShown] = useState<{ token: ScimToken; replaced?: string }>();
  const [regen, setRegen] = useState<ScimToken>();
  const [revoke, setRevoke] = useState<ScimToken>();
  const action = useAction();
  const dialog = useAction();

  const generate = async (e: React.FormEvent) => {
    e.preventDefault();
    const t = await action.run(() => post<ScimToken>(tenantPath(tenantId, '/scim-tokens'), name.trim() ? { name: name.trim() } : {}));
    if (t) { setShown({ token: t }); setName(''); list.reload(); }
  };

  const active = list.data?.tokens.filter((t) => t.status === 'active') ?? [];
  const inactive = list.data?.tokens.filter((t) => t.status !== 'active') ?? [];

  return (
    <div className="subsection">
      <h3>Secret tokens</h3>
      {shown && (
        <SecretOnce title={shown.replaced ? 'New secret token (the old one no longer works)' : 'New secret token'} secret={shown.token.token!} onDone={() => setShown(undefined)}>
          <p>Paste it into your IdP as the <b>Secret Token</b> / <b>Bearer token</b> now{shown.replaced ? ': provisioning fails until you do' : ''}.</p>
        </SecretOnce>
      )}
      {list.loading && !list.data ? <Loading what="tokens" />
        : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
        : active.length === 0 ? <Empty title="No active secret token">Generate one, then paste it into your IdP together with the SCIM URL.</Empty>
        : (
          <div className="table-wrap">
            <table data-testid="tokens-table" className="stack">
              <thead><tr><th scope="col">Name</th><th scope="col">Ends with</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {active.map((t) => (
                  <tr key={t.id}>
                    <td data-label="Name">{t.name}</td>
                    <td data-label="Ends with" className="mono">{t.tokenHint}</td>
                    <td data-label="Created">{when(t.createdAt)}</td>
                    <td data-label="Last used">{t.lastUsedAt ? when(t.lastUsedAt) : <span className="muted">never</span>}</td>
                    <td data-label="Expires">{t.expiresAt ? when(t.expiresAt) : <span className="muted">never</span>}</td>
                    <td className="actions">
                      <button type="button" className="secondary small" onClick={() => setRegen(t)}>Regenerate…</button>
                      <button type="button" className="danger small" onClick={() => setRevoke(t)}>Revoke…</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <form className="inline-form" onSubmit={generate}>
        <div className="field grow">
          <label htmlFor="token-name">Token name <span className="muted">(optional)</span></label>
          <input id="token-name" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="Entra provisioning" />
        </div>
        <button type="submit" className="primary" disabled={action.busy}>{action.busy ? 'Generating…' : 'Generate secret token'}</button>
      </form>
      <ErrorBox>{action.error}</ErrorBox>
      {inactive.length > 0 && (
        <details className="history">
          <summary>{inactive.length} revoked or expired token{inactive.length === 1 ? '' : 's'}</summary>
          <ul>{inactive.map((t) => <li key={t.id}>{t.name} <span className="mono">{t.tokenHint}</span> <Status value={t.status} /> {t.revokedAt && `revoked ${when(t.revokedAt)}`}</li>)}</ul>
        </details>
      )}
      <Confirm open={!!regen} title="Regenerate this secret token?" confirmLabel="Regenerate token" danger busy={dialog.busy} error={dialog.error}
        onCancel={() => { setRegen(undefined); dialog.setError(undefined); }}
        onConfirm={async () => {
          const old = regen!;
          const created = await dialog.run(() => post<ScimToken>(tenantPath(tenantId, '/scim-tokens'), { name: old.name }));
          if (!created) return;
          // The new secret is shown whatever happens next: it exists now and is never shown again.
          setRegen(undefined);
          setShown({ token: created, replaced: old.id });
          const revoked = await action.run(async () => { await del(tenantPath(tenantId, `/scim-tokens/${old.id}`)); return true; });
          if (!revoked) action.setError(`The new token was created, but the old one (${old.tokenHint}) could not be revoked; revoke it below.`);
          list.reload();
        }}>
        <p><strong>The current token “{regen?.name}” ({regen?.tokenHint}) stops working immediately.</strong> Your IdP's provisioning will fail until you paste the new token into it.</p>
      </Confirm>
      <Confirm open={!!revoke} title="Revoke this secret token?" confirmLabel="Revoke token" danger busy={dialog.busy} error={dialog.error}
        onCancel={() => { setRevoke(undefined); dialog.setError(undefined); }}
        onConfirm={async () => {
          const ok = await dialog.run(async () => { await del(tenantPath(tenantId, `/scim-tokens/${revoke!.id}`)); return true; });
          if (ok) { setRevoke(undefined); list.reload(); }
        }}>
        <p>“{revoke?.name}” ({revoke?.tokenHint}) is refused from now on. An IdP still using it can no longer provision users.</p>
      </Confirm>
    </div>
  );
}

interface OidcView {
  provider: string; issuer: string; discoveryUrl: string | null; audiences: string[]; groupsClaim: string; groupsMatch: string;
  identityClaims: { claim: string; attribute: string }[]; clockToleranceSeconds: number; jwksUri: string | null; updatedAt: string;
  additionalIssuers: string[]; algorithms: string[]; clientId: string | null; clientSecretSet: boolean;
}
interface Check { name: string; status: 'ok' | 'warn' | 'fail' | 'skipped'; message: string }

export function Oidc({ tenantId }: { tenantId: string }) {
  const path = tenantPath(tenantId, '/oidc');
  const [cfg, setCfg] = useState<OidcView | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string>();
  const [form, setForm] = useState({ provider: '', discoveryUrl: '', issuer: '', audience: '', groupsClaim: '', groupsMatch: '', identityClaims: '' });
  const save = useAction();
  const test = useAction();
  const remove = useAction();
  const [saved, setSaved] = useState(false);
  const [checks, setChecks] = useState<{ ok: boolean; checks: Check[] }>();
  const [sampleToken, setSampleToken] = useState('');
  const [confirmRemove, setConfirmRemove] = useState(false);

  const fill = (c: OidcView | null) => {
    setCfg(c);
    setForm(c ? {
      provider: c.provider, discoveryUrl: c.discoveryUrl ?? '', issuer: c.issuer, audience: c.audiences.join(', '), groupsClaim: c.groupsClaim,
      groupsMatch: c.groupsMatch, identityClaims: c.identityClaims.map((r) => `${r.claim}=${r.attribute}`).join(', '),
    } : { provider: '', discoveryUrl: '', issuer: '', audience: '', groupsClaim: '', groupsMatch: '', identityClaims: '' });
  };

  useEffect(() => {
    get<OidcView>(path).then(fill, (err: ApiError) => (err.status === 404 ? fill(null) : setLoadError(err.message)));
  }, [path]);

  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => { setSaved(false); setForm({ ...form, [k]: e.target.value }); };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = { issuer: form.issuer.trim() };
    // PUT …/oidc replaces the verification fields: send back the stored ones this form does not show,
    // so saving never drops them (the sign-in client is kept by the server when left out).
    if (cfg) {
      body.additionalIssuers = cfg.additionalIssuers;
      body.clockToleranceSeconds = cfg.clockToleranceSeconds;
      if (cfg.jwksUri) body.jwksUri = cfg.jwksUri;
      if (!form.provider || form.provider === cfg.provider) body.algorithms = cfg.algorithms;
    }
    if (form.provider) body.provider = form.provider;
    if (form.discoveryUrl.trim()) body.discoveryUrl = form.discoveryUrl.trim();
    const aud = form.audience.split(',').map((s) => s.trim()).filter(Boolean);
    if (aud.length) body.audience = aud.length === 1 ? aud[0] : aud;
    if (form.groupsClaim.trim()) body.groupsClaim = form.groupsClaim.trim();
    if (form.groupsMatch) body.groupsMatch = form.groupsMatch;
    const rules = form.identityClaims.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      const [claim = '', attribute = ''] = s.split('=').map((x) => x.trim());
      return { claim, attribute };
    });
    if (rules.length) body.identityClaims = rules;
    const r = await save.run(() => put<OidcView>(path, body));
    if (r) { fill(r); setSaved(true); setChecks(undefined); }
  };

  const runTest = async () => {
    setChecks(undefined);
    const r = await test.run(() => post<{ ok: boolean; checks: Check[] }>(`${path}/test`, sampleToken.trim() ? { token: sampleToken.trim() } : {}));
    if (r) setChecks(r);
  };

  return (
    <Section title="2. OIDC token verification" id="oidc">
      <p className="help">Lets the host product send your users' IdP access tokens to idpbridge. Entra: <i>App registrations → Endpoints → OpenID Connect metadata document</i>; issuer <code>https://sts.windows.net/&lt;tenant id&gt;/</code>; audience = the Application ID URI. Okta: the authorization server's metadata URL, issuer and audience.</p>
      {cfg === undefined && !loadError ? <Loading what="the OIDC settings" />
        : loadError ? <ErrorBox>{loadError}</ErrorBox>
        : (
          <form onSubmit={submit} className="grid-form" aria-busy={save.busy}>
            {cfg === null && <p className="notice full">Not configured yet: IdP tokens are refused until you save these settings.</p>}
            <div className="field full">
              <label htmlFor="oidc-discovery">OpenID Connect discovery URL</label>
              <input id="oidc-discovery" type="url" value={form.discoveryUrl} onChange={set('discoveryUrl')} placeholder="https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration" />
              <p className="help">Optional: derived from the issuer when empty.</p>
            </div>
            <div className="field full">
              <label htmlFor="oidc-issuer">IdP token issuer</label>
              <input id="oidc-issuer" required value={form.issuer} onChange={set('issuer')} placeholder="https://sts.windows.net/<tenant id>/" />
            </div>
            <div className="field full">
              <label htmlFor="oidc-audience">IdP token audience</label>
              <input id="oidc-audience" value={form.audience} onChange={set('audience')} placeholder="api://idpbridge-demo" aria-describedby="oidc-aud-help" />
              <p className="help" id="oidc-aud-help">Several values: separate with commas.</p>
            </div>
            <div className="field">
              <label htmlFor="oidc-provider">Provider</label>
              <select id="oidc-provider" value={form.provider} onChange={set('provider')}>
                <option value="">Detect from the issuer</option>
                <option value="entra">Microsoft Entra ID</option>
                <option value="okta">Okta</option>
                <option value="generic">Other OIDC provider</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="oidc-groups-claim">Groups claim</label>
              <input id="oidc-groups-claim" value={form.groupsClaim} onChange={set('groupsClaim')} placeholder="groups" />
            </div>
            <div className="field">
              <label htmlFor="oidc-groups-match">Groups in the token are</label>
              <select id="oidc-groups-match" value={form.groupsMatch} onChange={set('groupsMatch')}>
                <option value="">Provider default</option>
                <option value="externalId">Group object ids (externalId)</option>
                <option value="displayName">Group names (displayName)</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="oidc-claims">Identity claims</label>
              <input id="oidc-claims" value={form.identityClaims} onChange={set('identityClaims')} placeholder="oid=externalId, preferred_username=userName" />
            </div>
            <ErrorBox>{save.error}</ErrorBox>
            <div className="form-actions full">
              <button type="submit" className="primary" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save OIDC settings'}</button>
              {saved && <span role="status" className="ok-text">Saved.</span>}
              {cfg && <button type="button" className="danger" onClick={() => setConfirmRemove(true)}>Remove…</button>}
            </div>
          </form>
        )}
      {cfg && (
        <div className="subsection">
          <h3>Test connection</h3>
          <p className="help">Fetches the discovery document and signing keys now. Paste a sample access token to also check that it verifies and maps to a provisioned user.</p>
          <div className="field">
            <label htmlFor="oidc-sample">Sample access token <span className="muted">(optional)</span></label>
            <textarea id="oidc-sample" rows={2} className="mono" value={sampleToken} onChange={(e) => setSampleToken(e.target.value)} spellCheck={false} />
          </div>
          <button type="button" className="primary" onClick={runTest} disabled={test.busy}>{test.busy ? 'Testing…' : 'Test connection'}</button>
          <ErrorBox>{test.error}</ErrorBox>
          {test.busy && <Loading what="the checks" />}
          {checks && (
            <div className="checks" role="status">
              <p>{checks.ok ? <Badge tone="ok">All checks passed</Badge> : <Badge tone="bad">Some checks failed</Badge>}</p>
              <ul>
                {checks.checks.map((c, i) => (
                  <li key={i} className={`check check-${c.status}`}>
                    <span className="check-icon" aria-hidden="true">{c.status === 'ok' ? '✓' : c.status === 'fail' ? '✗' : c.status === 'warn' ? '!' : '–'}</span>
                    <span><b>{c.name}</b> <Status value={c.status} /><br />{c.message}</span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
      <Confirm open={confirmRemove} title="Remove the OIDC settings?" confirmLabel="Remove" danger busy={remove.busy} error={remove.error}
        onCancel={() => setConfirmRemove(false)}
        onConfirm={async () => {
          const ok = await remove.run(async () => { await del(path); return true; });
          if (ok) { setConfirmRemove(false); fill(null); setChecks(undefined); }
        }}>
        <p>IdP tokens of this tenant are refused at once. API keys keep working.</p>
      </Confirm>
    </Section>
  );
}
