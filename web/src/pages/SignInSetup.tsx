import { useEffect, useState } from 'react';
import { del, get, post, put, tenantPath } from '../api';
import { href, tpath, useRoute } from '../router';
import { Badge, Confirm, CopyField, ErrorBox, Loading, PageHeader, Section, useAction, useGet, when } from '../ui';

interface RedirectUri { id: string; uri: string; createdAt: string }
interface SsoView {
  callbackUrl: string; loginUrl: string; issuer: string; jwksUrl: string; oidcConfigured: boolean;
  clientId: string | null; clientSecretSet: boolean; ready: boolean; redirectUris: RedirectUri[];
}
/** Every field PUT …/oidc takes that GET returns: sent back unchanged so saving the client drops nothing. */
interface OidcView {
  provider: string; issuer: string; additionalIssuers: string[]; discoveryUrl: string | null; jwksUri: string | null; audiences: string[];
  algorithms: string[]; identityClaims: { claim: string; attribute: string }[]; groupsClaim: string; groupsMatch: string;
  clockToleranceSeconds: number; clientId: string | null; clientSecretSet: boolean;
}

/** The result of "sign in to test", carried back in the route (src/console/idp-sign-in.ts). */
export interface SignInTestResult {
  ok: boolean; code?: string; message?: string; userName?: string; displayName?: string | null; status?: string;
  datasets?: string[]; accessGroups?: string[]; groups?: string[]; roles?: string[];
}

export function readSignInTest(encoded: string | null): SignInTestResult | undefined {
  if (!encoded) return undefined;
  try {
    const json = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
    const r = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as SignInTestResult;
    return typeof r.ok === 'boolean' ? r : undefined;
  } catch {
    return undefined;
  }
}

const list = (xs: string[] | undefined) => (xs && xs.length ? xs.join(', ') : 'none');

/** Shows a sign-in test's outcome: who the IdP sign-in resolved to and what they may use, or why it failed. */
export function SignInTestOutcome({ result }: { result: SignInTestResult }) {
  return (
    <div className={`check check-${result.ok ? 'ok' : 'fail'}`} role="status" data-testid="signin-test-result" data-status={result.ok ? 'ok' : 'fail'}>
      <span className="check-icon" aria-hidden="true">{result.ok ? '✓' : '✗'}</span>
      {result.ok ? (
        <span>
          <b>Sign-in works.</b> Signed in as <b data-testid="signin-test-user">{result.userName}</b>
          {result.displayName ? <> ({result.displayName})</> : null}, status {result.status}.
          <br />Datasets: <span data-testid="signin-test-datasets">{list(result.datasets)}</span>
          <br />Access groups: {list(result.accessGroups)}; groups: {list(result.groups)}; roles: {list(result.roles)}
        </span>
      ) : (
        <span><b>The sign-in failed</b> (<code>{result.code}</code>): {result.message}</span>
      )}
    </div>
  );
}

/** "Sign in to test": a real sign-in through the broker in this browser; the result comes back to `returnTo`. */
export function SignInTestButton({ tenantId, returnTo, disabled }: { tenantId: string; returnTo: 'sign-in' | 'wizard'; disabled?: boolean }) {
  const url = `/console/api/sso/test?tenantId=${encodeURIComponent(tenantId)}&return=${returnTo}`;
  // A top-level navigation (not fetch): the IdP's pages need the whole window.
  return <button type="button" className="primary" disabled={disabled} onClick={() => window.location.assign(url)} data-testid="signin-test">Sign in to test</button>;
}

/** A tenant's sign-in set-up: what to register at the IdP, the sign-in client, redirect URIs, a real sign-in test. */
export function SignInSetupPage({ tenantId }: { tenantId: string }) {
  const route = useRoute();
  const sso = useGet<SsoView>(tenantPath(tenantId, '/sso'));
  const testResult = readSignInTest(route.query.get('signin_test'));
  const consoleLink = `${window.location.origin}/console#/?org=${tenantId}`;

  return (
    <>
      <PageHeader title="Sign-in" intro="Users of the host product sign in through your identity provider; idpbridge checks they are provisioned and sends them back with a signed token." />
      {sso.error ? <ErrorBox onRetry={sso.reload}>{sso.error}</ErrorBox> : !sso.data ? <Loading what="the sign-in settings" /> : (
        <>
          <Section title="Status" id="signin-status">
            <p data-testid="signin-ready">
              {sso.data.ready ? <Badge tone="ok">Ready</Badge> : <Badge tone="warn">Not ready</Badge>}{' '}
              {sso.data.ready ? 'Sign-in through your IdP works for the redirect URIs below.'
                : !sso.data.oidcConfigured ? 'Enter the OIDC settings first.'
                  : !sso.data.clientId || !sso.data.clientSecretSet ? 'Enter the client id and secret below.'
                    : 'Register at least one redirect URI of the host product below.'}
            </p>
          </Section>
          <Section title="1. Register idpbridge at your IdP" id="signin-register">
            <p className="help">Create a <b>web</b> application (authorization code flow) at your IdP. Entra: <i>App registrations → New registration → Redirect URI (Web)</i>. Okta: <i>Applications → Create App Integration → OIDC → Web Application → Sign-in redirect URIs</i>.</p>
            <CopyField label="Redirect URI to register at the IdP (callback URL)" value={sso.data.callbackUrl} testId="signin-callback-url" />
          </Section>
          <ClientSection tenantId={tenantId} sso={sso.data} onSaved={sso.reload} />
          <RedirectUris tenantId={tenantId} uris={sso.data.redirectUris} onChange={sso.reload} />
          <Section title="4. Sign in to test" id="signin-test">
            <p className="help">Runs the real sign-in in this browser: you sign in at your IdP as a provisioned user and come back here with who idpbridge resolved and what they may use.</p>
            {testResult && <SignInTestOutcome result={testResult} />}
            <p><SignInTestButton tenantId={tenantId} returnTo="sign-in" disabled={!sso.data.oidcConfigured || !sso.data.clientId || !sso.data.clientSecretSet} /></p>
          </Section>
          <Section title="Console sign-in for your admins" id="signin-console">
            <p className="help">Once sign-in works, admins with a console account whose login is their user name at the IdP can choose <b>Sign in with your organisation</b> on this link:</p>
            <CopyField label="Console link for your organisation" value={consoleLink} testId="signin-console-link" />
          </Section>
        </>
      )}
    </>
  );
}

/** The sign-in client (id and write-only secret), written through PUT …/oidc without dropping the other settings. */
export function ClientSection({ tenantId, sso, onSaved, title = '2. Client id and secret' }: {
  tenantId: string; sso: Pick<SsoView, 'oidcConfigured' | 'clientId' | 'clientSecretSet'>; onSaved: () => void; title?: string;
}) {
  const [clientId, setClientId] = useState(sso.clientId ?? '');
  const [secret, setSecret] = useState('');
  const [editingSecret, setEditingSecret] = useState(!sso.clientSecretSet);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [saved, setSaved] = useState<string>();
  const save = useAction();
  useEffect(() => { setClientId(sso.clientId ?? ''); setEditingSecret(!sso.clientSecretSet); }, [sso.clientId, sso.clientSecretSet]);

  if (!sso.oidcConfigured) {
    return (
      <Section title={title} id="signin-client">
        <p className="notice">Sign-in uses your tenant's OIDC settings (issuer, discovery URL). Enter them on the <a href={href(tpath(tenantId, '/integration'))}>IdP integration</a> page first.</p>
      </Section>
    );
  }

  /** PUT replaces the token-verification fields, so the stored ones go back unchanged with the client. */
  const writeClient = async (client: { clientId?: string | null; clientSecret?: string | null }) => {
    const cfg = await get<OidcView>(tenantPath(tenantId, '/oidc'));
    const body = {
      provider: cfg.provider, issuer: cfg.issuer, additionalIssuers: cfg.additionalIssuers, discoveryUrl: cfg.discoveryUrl, jwksUri: cfg.jwksUri,
      audiences: cfg.audiences, algorithms: cfg.algorithms, identityClaims: cfg.identityClaims, groupsClaim: cfg.groupsClaim,
      groupsMatch: cfg.groupsMatch, clockToleranceSeconds: cfg.clockToleranceSeconds, ...client,
    };
    return put<OidcView>(tenantPath(tenantId, '/oidc'), body);
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setSaved(undefined);
    const client: { clientId: string | null; clientSecret?: string } = { clientId: clientId.trim() || null };
    if (editingSecret && secret) client.clientSecret = secret;
    const r = await save.run(() => writeClient(client));
    if (r) { setSecret(''); setSaved('Saved.'); onSaved(); }
  };

  return (
    <Section title={title} id="signin-client">
      <p className="help">From the application you registered: Entra <i>Overview → Application (client) ID</i> and <i>Certificates &amp; secrets → New client secret → Value</i>; Okta <i>General → Client Credentials</i>. The secret is write-only: idpbridge stores it encrypted and never shows it again.</p>
      <form onSubmit={submit} className="grid-form" aria-busy={save.busy}>
        <div className="field full">
          <label htmlFor="signin-client-id">Client id</label>
          <input id="signin-client-id" value={clientId} onChange={(e) => { setSaved(undefined); setClientId(e.target.value); }} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field full">
          {editingSecret ? (
            <>
              <label htmlFor="signin-client-secret">Client secret</label>
              <input id="signin-client-secret" type="password" value={secret} onChange={(e) => { setSaved(undefined); setSecret(e.target.value); }}
                autoComplete="new-password" spellCheck={false} placeholder={sso.clientSecretSet ? 'New secret' : 'Paste the secret'} />
              {sso.clientSecretSet && <button type="button" className="link" onClick={() => { setEditingSecret(false); setSecret(''); }}>Keep the current secret</button>}
            </>
          ) : (
            <p data-testid="signin-secret-state">
              Client secret: <Badge tone="ok">Set</Badge>{' '}
              <button type="button" className="secondary small" onClick={() => setEditingSecret(true)}>Replace</button>{' '}
              <button type="button" className="danger small" onClick={() => setConfirmRemove(true)}>Remove</button>
            </p>
          )}
        </div>
        <ErrorBox>{save.error}</ErrorBox>
        <div className="form-actions full">
          <button type="submit" className="primary" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save client'}</button>
          {saved && <span role="status" className="ok-text">{saved}</span>}
        </div>
      </form>
      <Confirm open={confirmRemove} title="Remove the client secret?" confirmLabel="Remove secret" danger busy={save.busy} error={save.error}
        onCancel={() => setConfirmRemove(false)}
        onConfirm={async () => {
          const r = await save.run(() => writeClient({ clientSecret: null }));
          if (r) { setConfirmRemove(false); onSaved(); }
        }}>
        <p>Sign-in through your IdP stops working until a new secret is entered. Token verification is not affected.</p>
      </Confirm>
    </Section>
  );
}

function RedirectUris({ tenantId, uris, onChange }: { tenantId: string; uris: RedirectUri[]; onChange: () => void }) {
  const [uri, setUri] = useState('');
  const [remove, setRemove] = useState<RedirectUri>();
  const add = useAction();
  const dialog = useAction();
  const path = tenantPath(tenantId, '/sso/redirect-uris');

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const r = await add.run(() => post<RedirectUri>(path, { uri: uri.trim() }));
    if (r) { setUri(''); onChange(); }
  };

  return (
    <Section title="3. Redirect URIs of the host product" id="signin-redirects">
      <p className="help">Where idpbridge may send users back after sign-in. Compared exactly, except that native apps on <code>http://127.0.0.1</code> or <code>http://[::1]</code> may use any port (RFC 8252). Mobile and desktop apps may use their own scheme, such as <code>msauth.com.example.app://auth</code> or <code>myapp://callback</code>.</p>
      {uris.length === 0 ? <p className="notice">No redirect URI yet: sign-in is refused until the host product's is registered.</p> : (
        <div className="table-wrap"><table>
          <caption className="sr-only">Registered redirect URIs</caption>
          <thead><tr><th scope="col">Redirect URI</th><th scope="col">Added</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {uris.map((r) => (
              <tr key={r.id}>
                <td className="mono" data-testid="redirect-uri">{r.uri}</td>
                <td>{when(r.createdAt)}</td>
                <td><button type="button" className="danger small" onClick={() => setRemove(r)} aria-label={`Remove ${r.uri}`}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      <form onSubmit={submit} className="inline-form" aria-busy={add.busy}>
        <div className="field">
          <label htmlFor="signin-new-redirect">Add a redirect URI</label>
          <input id="signin-new-redirect" required value={uri} onChange={(e) => setUri(e.target.value)} placeholder="https://app.example.com/auth/callback" spellCheck={false} />
        </div>
        <button type="submit" className="primary" disabled={add.busy}>{add.busy ? 'Adding…' : 'Add'}</button>
      </form>
      <ErrorBox>{add.error}</ErrorBox>
      <Confirm open={!!remove} title="Remove this redirect URI?" confirmLabel="Remove" danger busy={dialog.busy} error={dialog.error}
        onCancel={() => { setRemove(undefined); dialog.setError(undefined); }}
        onConfirm={async () => {
          const ok = await dialog.run(async () => { await del(`${path}/${remove!.id}`); return true; });
          if (ok) { setRemove(undefined); onChange(); }
        }}>
        <p>Sign-ins can no longer return to <code>{remove?.uri}</code>.</p>
      </Confirm>
    </Section>
  );
}

