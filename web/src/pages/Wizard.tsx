import { useEffect, useState } from 'react';
import { get, post, tenantPath, type Connection, type ScimToken, type Tenant } from '../api';
import type { Features } from '../App';
import { href, tpath, useRoute } from '../router';
import { CopyField, ErrorBox, Loading, PageHeader, Section, useAction, useGet } from '../ui';
import { Oidc } from './Integration';
import { ClientSection, readSignInTest, SignInTestButton, SignInTestOutcome } from './SignInSetup';

type Idp = 'entra' | 'okta' | 'other';
const IDP_LABEL: Record<Idp, string> = { entra: 'Microsoft Entra ID', okta: 'Okta', other: 'another SCIM 2.0 / OpenID Connect provider' };
/** The provisioning log's `idp` (from the User-Agent) in words. */
const LOG_IDP: Record<string, string> = {
  entra: 'Entra ID', okta: 'Okta', onelogin: 'OneLogin', jumpcloud: 'JumpCloud', ping: 'Ping Identity', google: 'Google', other: 'your IdP',
};
const STEPS = ['Choose your identity provider', 'Connect provisioning', 'Assign users and groups', 'Sign-in and token verification', 'Summary'];
const POLL_MS = 2000;

interface LogEntry { at: string; idp: string; method: string; path: string; outcome: 'success' | 'failure' | 'error'; status: number; error: { detail?: string } | null }
interface Counts { users: number; groups: number; linked: number }

const hhmm = (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

/** The fix for a refused SCIM request, in the words of the guides' "If provisioning fails". */
function fixHint(e: LogEntry): string {
  if (e.status === 401) return 'The secret token is wrong, revoked or expired. Paste the token alone (no "Bearer " in front), or create a new one above.';
  if (e.status === 409) return 'A user with this userName already exists: check the userName mapping (Entra: userPrincipalName; Okta: userName).';
  if (e.status === 404) return 'The SCIM URL is wrong: copy the SCIM base URL above exactly.';
  if (e.status === 400) return 'The IdP sent something idpbridge does not accept: see the error above and the attribute mappings in the guide.';
  return 'Retry from your IdP; if it keeps failing, send this error to your provider.';
}

/** Polls fn every POLL_MS while `on`; returns its latest result. */
function usePoll<T>(on: boolean, fn: () => Promise<T>): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  useEffect(() => {
    if (!on) return;
    let live = true;
    const tick = () => fn().then((data) => { if (live) setState({ data }); }, (err: Error) => { if (live) setState((s) => ({ ...s, error: err.message })); });
    tick();
    const t = setInterval(tick, POLL_MS);
    return () => { live = false; clearInterval(t); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [on]);
  return state;
}

function LiveCheck({ ok, fail, children, testId }: { ok: boolean; fail?: boolean; children: React.ReactNode; testId: string }) {
  const status = ok ? 'ok' : fail ? 'fail' : 'waiting';
  return (
    <div className={`check check-${status === 'waiting' ? 'skipped' : status}`} role="status" aria-live="polite" data-testid={testId} data-status={status}>
      <span className="check-icon" aria-hidden="true">{ok ? '✓' : fail ? '✗' : '…'}</span>
      <span>{children}</span>
    </div>
  );
}

/** The guided set-up an IT admin lands on from a set-up link (any tenant admin may open it). */
export function WizardPage({ tenantId, features }: { tenantId: string; features: Features }) {
  const route = useRoute();
  // "Sign in to test" leaves the console for the IdP and comes back here with its result (step 4).
  const signInTest = readSignInTest(route.query.get('signin_test'));
  const [idp, setIdp] = useState<Idp>(() => (route.query.get('idp') as Idp | null) ?? 'entra');
  const [step, setStep] = useState(signInTest ? 3 : 0);
  const tenant = useGet<Tenant>(tenantPath(tenantId));
  const [token, setToken] = useState<ScimToken>();
  const create = useAction();

  const log = usePoll(step >= 1 && step <= 2, () =>
    get<{ entries: LogEntry[] }>(tenantPath(tenantId, '/provisioning-log?limit=200')).then((r) => r.entries));
  const counts = usePoll(step === 2 || step === 4, async (): Promise<Counts> => {
    const [u, g] = await Promise.all([
      get<{ total: number }>(tenantPath(tenantId, '/scim-users?limit=1')),
      get<{ total: number; groups: { linkedAccessGroup: unknown }[] }>(tenantPath(tenantId, '/scim-groups?limit=500')),
    ]);
    return { users: u.total, groups: g.total, linked: g.groups.filter((x) => x.linkedAccessGroup).length };
  });
  const sso = usePoll(step === 3 && features.has('/admin/v1/tenants/{tenantId}/sso'), () =>
    get<{ ready: boolean; oidcConfigured: boolean; clientId: string | null; clientSecretSet: boolean; callbackUrl: string }>(tenantPath(tenantId, '/sso')));
  const summary = usePoll(step === 4, async () => {
    const [tokens, oidc, sso, connections] = await Promise.all([
      get<{ tokens: ScimToken[] }>(tenantPath(tenantId, '/scim-tokens')),
      get<{ issuer: string }>(tenantPath(tenantId, '/oidc')).catch(() => null),
      features.has('/admin/v1/tenants/{tenantId}/sso') ? get<{ ready: boolean }>(tenantPath(tenantId, '/sso')).catch(() => null) : Promise.resolve(null),
      features.has('/admin/v1/tenants/{tenantId}/connections')
        ? get<Connection[]>(tenantPath(tenantId, '/connections')).catch(() => [] as Connection[])
        : Promise.resolve([] as Connection[]),
    ]);
    const saml = connections.filter((x) => x.type === 'saml');
    return { activeTokens: tokens.tokens.filter((t) => t.status === 'active').length, oidc, sso, saml };
  });

  const entries = log.data ?? [];
  const first = entries.length ? entries[entries.length - 1] : undefined;
  const lastFailure = entries.find((e) => e.outcome !== 'success');
  const latest = entries[0];
  const c = counts.data;
  const scimUrl = tenant.data ? (idp === 'entra' ? `${tenant.data.scimBaseUrl}?aadOptscim062020` : tenant.data.scimBaseUrl) : '';

  const makeToken = async () => {
    const t = await create.run(() => post<ScimToken>(tenantPath(tenantId, '/scim-tokens'), { name: `${idp === 'entra' ? 'Entra' : idp === 'okta' ? 'Okta' : 'IdP'} provisioning` }));
    if (t) setToken(t);
  };

  const nav = (
    <div className="form-actions">
      {step > 0 && <button type="button" className="secondary" onClick={() => setStep(step - 1)}>Back</button>}
      {step < STEPS.length - 1 && <button type="button" className="primary" onClick={() => setStep(step + 1)}>Continue</button>}
    </div>
  );

  return (
    <>
      <PageHeader title="Guided set-up" intro={`Connect ${tenant.data?.name ?? 'your organisation'} to its identity provider, step by step. Every check turns green by itself when it happens.`} />
      <nav aria-label="Set-up steps">
        <ol className="steps">
          {STEPS.map((s, i) => <li key={s} aria-current={i === step ? 'step' : undefined} className={i < step ? 'done' : undefined}>{s}</li>)}
        </ol>
      </nav>

      {step === 0 && (
        <Section title="1. Choose your identity provider">
          <fieldset>
            <legend>Where are your users managed?</legend>
            {(Object.keys(IDP_LABEL) as Idp[]).map((k) => (
              <label key={k} className="radio">
                <input type="radio" name="idp" value={k} checked={idp === k} onChange={() => setIdp(k)} /> {IDP_LABEL[k][0]!.toUpperCase() + IDP_LABEL[k].slice(1)}
              </label>
            ))}
          </fieldset>
          {nav}
        </Section>
      )}

      {step === 1 && (
        <Section title="2. Connect provisioning">
          {tenant.error ? <ErrorBox onRetry={tenant.reload}>{tenant.error}</ErrorBox> : !tenant.data ? <Loading what="the SCIM URL" /> : (
            <ol className="numbered">
              {idp === 'entra' && <>
                <li>In the Microsoft Entra admin center, go to <b>Identity → Applications → Enterprise applications</b>, click <b>New application</b>, then <b>Create your own application</b>; select <b>Integrate any other application you don't find in the gallery (Non-gallery)</b> and click <b>Create</b>.</li>
                <li>In the new application, open <b>Provisioning</b>, then <b>Get started</b>. Set <b>Provisioning Mode</b> to <b>Automatic</b>.</li>
                <li>Under <b>Admin Credentials</b>, paste the <b>Tenant URL</b>:<CopyField label="Tenant URL" value={scimUrl} testId="wizard-scim-url" /></li>
              </>}
              {idp === 'okta' && <>
                <li>In the Okta Admin Console, go to <b>Applications → Applications → Create App Integration</b>, select <b>SWA - Secure Web Authentication</b>, then on <b>General → App Settings</b> set <b>Provisioning</b> to <b>SCIM</b>.</li>
                <li>Open <b>Provisioning → Integration</b>, click <b>Edit</b>, set <b>Unique identifier field for users</b> to <code>userName</code>, tick <b>Push New Users</b>, <b>Push Profile Updates</b> and <b>Push Groups</b>, and <b>Authentication Mode</b> = <b>HTTP Header</b>.</li>
                <li>Paste the <b>SCIM connector base URL</b>:<CopyField label="SCIM connector base URL" value={scimUrl} testId="wizard-scim-url" /></li>
              </>}
              {idp === 'other' && <>
                <li>In your identity provider, create a SCIM 2.0 application (or provisioning connection) with bearer-token authentication.</li>
                <li>Paste the SCIM base URL:<CopyField label="SCIM base URL" value={scimUrl} testId="wizard-scim-url" /></li>
              </>}
              <li>
                {idp === 'entra' ? <>Paste the <b>Secret Token</b> (alone — no <code>Bearer </code> in front).</> : idp === 'okta' ? <>Paste the token into <b>Authorization</b> (Okta adds <code>Bearer </code> itself).</> : <>Paste the bearer token.</>}
                {token ? (
                  <div className="secret-once" role="region" aria-label="New secret token">
                    <p className="warn-text"><strong>Copy it now.</strong> It is shown only once: idpbridge keeps a hash, never the secret itself.</p>
                    <CopyField label="Secret token" value={token.token!} secret testId="wizard-token" />
                  </div>
                ) : (
                  <p><button type="button" className="primary" onClick={makeToken} disabled={create.busy}>{create.busy ? 'Creating…' : 'Create a secret token'}</button></p>
                )}
                <ErrorBox>{create.error}</ErrorBox>
              </li>
              <li>Click <b>{idp === 'entra' ? 'Test Connection' : idp === 'okta' ? 'Test Connector Configuration' : 'your provider\'s connection test'}</b>, then <b>Save</b>.</li>
            </ol>
          )}
          <LiveCheck ok={!!first && first.outcome === 'success'} fail={!!lastFailure && lastFailure === latest} testId="check-first-request">
            {!first ? <>Waiting for your IdP's first request…</>
              : <>{first.method === 'GET' ? 'Test Connection' : 'First request'} received from {LOG_IDP[first.idp] ?? first.idp} at {hhmm(first.at)}</>}
            {lastFailure && lastFailure === latest && (
              <><br /><b>Last request refused ({lastFailure.status}):</b> {lastFailure.error?.detail ?? `${lastFailure.method} ${lastFailure.path}`}<br /><b>Fix:</b> {fixHint(lastFailure)}</>
            )}
          </LiveCheck>
          {log.error && <ErrorBox>{log.error}</ErrorBox>}
          {nav}
        </Section>
      )}

      {step === 2 && (
        <Section title="3. Assign users and groups">
          <ol className="numbered">
            {idp === 'entra' && <>
              <li>In the enterprise application, open <b>Users and groups → Add user/group</b>, select the users and groups that should exist in the product, then <b>Assign</b>.</li>
              <li>In <b>Provisioning → Settings</b>, set <b>Scope</b> = <b>Sync only assigned users and groups</b>, set <b>Provisioning Status</b> to <b>On</b> and click <b>Save</b>.</li>
            </>}
            {idp === 'okta' && <>
              <li>Open <b>Provisioning → To App</b>, click <b>Edit</b>, enable <b>Create Users</b>, <b>Update User Attributes</b> and <b>Deactivate Users</b>, then <b>Save</b>.</li>
              <li>Open <b>Assignments → Assign → Assign to People</b> (or <b>Assign to Groups</b>), then the <b>Push Groups</b> tab: <b>+ Push Groups → Find groups by name</b>.</li>
            </>}
            {idp === 'other' && <li>Assign users and groups to the application and start provisioning.</li>}
            <li>Groups give access when an access group in the product has exactly the same name.</li>
          </ol>
          <LiveCheck ok={!!c && c.users > 0} testId="check-first-sync">
            {!c || c.users === 0 ? <>Waiting for the first sync…</>
              : <>First sync: {c.users} user{c.users === 1 ? '' : 's'}, {c.groups} group{c.groups === 1 ? '' : 's'}, {c.linked} linked to access groups</>}
          </LiveCheck>
          {lastFailure && lastFailure === latest && (
            <LiveCheck ok={false} fail testId="check-sync-failure">
              <b>Last request refused ({lastFailure.status}):</b> {lastFailure.error?.detail ?? `${lastFailure.method} ${lastFailure.path}`}<br /><b>Fix:</b> {fixHint(lastFailure)}
            </LiveCheck>
          )}
          {nav}
        </Section>
      )}

      {step === 3 && (
        <>
          {features.has('/admin/v1/tenants/{tenantId}/oidc') ? <Oidc tenantId={tenantId} /> : <p>This server has no OIDC settings.</p>}
          {sso.data && sso.data.oidcConfigured && (
            <ClientSection tenantId={tenantId} sso={sso.data} onSaved={() => undefined} title="Sign-in: client id and secret" />
          )}
          {sso.data && (
            <Section title="Sign in to test" id="wizard-signin">
              <p className="help">Register the callback URL at your IdP as a web application's redirect URI and enter its client id and secret above (also on the <a href={href(tpath(tenantId, '/sign-in'))}>Sign-in</a> page); then run the real sign-in as one of your provisioned users.</p>
              <CopyField label="Callback URL to register at the IdP" value={sso.data.callbackUrl} testId="wizard-callback-url" />
              <LiveCheck ok={!!sso.data.clientId && sso.data.clientSecretSet} testId="check-signin-client">
                {sso.data.clientId && sso.data.clientSecretSet ? <>Sign-in client {sso.data.clientId} configured</> : <>Waiting for the client id and secret…</>}
              </LiveCheck>
              {signInTest && <SignInTestOutcome result={signInTest} />}
              <p><SignInTestButton tenantId={tenantId} returnTo="wizard" disabled={!sso.data.clientId || !sso.data.clientSecretSet} /></p>
            </Section>
          )}
          {features.has('/admin/v1/tenants/{tenantId}/connections') && (
            <Section title="Your IdP signs in with SAML instead?" id="wizard-saml">
              <p className="help">Some organisations set up single sign-on as a SAML 2.0 application (Entra ID: Enterprise application → Single sign-on → SAML; Okta: Create App Integration → SAML 2.0). Provisioning above stays the same.</p>
              <p><a href={href(tpath(tenantId, '/saml'))} data-testid="wizard-saml-link">Set up SAML sign-in</a>: copy the ACS URL and Entity ID to your IdP, paste its metadata, then sign in to test.</p>
            </Section>
          )}
          <Section title="Next">{nav}</Section>
        </>
      )}

      {step === 4 && (
        <Section title="5. Summary">
          {!summary.data || !c ? <Loading what="the summary" /> : (
            <ul className="checks-list" data-testid="wizard-summary">
              <li><LiveCheck ok={summary.data.activeTokens > 0} testId="sum-token">{summary.data.activeTokens > 0 ? 'SCIM secret token created' : 'Left to do: create a secret token (step 2)'}</LiveCheck></li>
              <li><LiveCheck ok={c.users > 0} testId="sum-sync">{c.users > 0 ? `${c.users} user${c.users === 1 ? '' : 's'} and ${c.groups} group${c.groups === 1 ? '' : 's'} provisioned, ${c.linked} linked to access groups` : 'Left to do: assign users and start provisioning (step 3)'}</LiveCheck></li>
              <li><LiveCheck ok={!!summary.data.oidc} testId="sum-oidc">{summary.data.oidc ? `Token verification configured (${summary.data.oidc.issuer})` : 'Left to do: enter the OIDC settings (step 4)'}</LiveCheck></li>
              {summary.data.saml.map((x) => (
                <li key={x.id}><LiveCheck ok={!!x.saml?.ready} testId="sum-saml">{x.saml?.ready ? `SAML sign-in “${x.name}” is ready` : `Left to do: finish SAML connection “${x.name}” (paste the IdP's metadata)`}</LiveCheck></li>
              ))}
              {summary.data.sso && <li><LiveCheck ok={summary.data.sso.ready} testId="sum-sso">{summary.data.sso.ready ? 'Sign-in through your IdP is ready' : <>Optional: for sign-in through your IdP, enter the client id and secret and register your product's redirect URI on the <a href={href(tpath(tenantId, '/sign-in'))}>Sign-in</a> page</>}</LiveCheck></li>}
            </ul>
          )}
          <p>Later, watch the <a href={href(tpath(tenantId, '/log'))}>provisioning log</a>; the <a href={href(tpath(tenantId, '/integration'))}>IdP integration</a> page has every setting.</p>
          {nav}
        </Section>
      )}
    </>
  );
}
