// "Sign in to test": the console runs a real sign-in through the broker in a new tab, with the
// console itself as the host product. The landing URL (`/console/?sign-in-test=1`) is a redirect URI
// registered for the tenant; the broker sends the new tab back there with `token` or `error_code`,
// and the tab hands the result to the page that started it (BroadcastChannel, same origin only).
import { useEffect, useState } from 'react';
import { get, post, tenantPath } from './api';
import { Badge } from './ui';

const CHANNEL = 'idpbridge-sign-in-test';
const PENDING = 'idpb-sign-in-test:';

export const signInTestRedirectUri = () => `${window.location.origin}/console/?sign-in-test=1`;

export interface SignInTestResult {
  state: string;
  ok: boolean;
  /** The identity the broker resolved (the idpbridge token's claims), when it succeeded. */
  claims?: {
    identity: { id: string; userName: string; externalId: string | null; displayName: string | null; status: string };
    groups: { displayName: string }[]; accessGroups: { name: string }[]; datasets: { name: string }[];
    idp?: { iss: string; sub: string };
  };
  errorCode?: string;
  errorDescription?: string;
}

/** Registers the console's landing URL as a redirect URI of the tenant when it is not one yet. */
export async function ensureSignInTestRedirectUri(tenantId: string): Promise<boolean> {
  const uri = signInTestRedirectUri();
  const { redirectUris } = await get<{ redirectUris: { uri: string }[] }>(tenantPath(tenantId, '/sso/redirect-uris'));
  if (redirectUris.some((r) => r.uri === uri)) return false;
  await post(tenantPath(tenantId, '/sso/redirect-uris'), { uri });
  return true;
}

/**
 * Opens `loginUrl` (a broker sign-in URL) in a new tab with the console's landing URL and a fresh
 * state, remembered so the landing tab only reports sign-ins this console started. The tab is
 * opened before anything is awaited (popup blockers allow it only then) and pointed at the IdP after.
 */
export function startSignInTest(loginUrl: string, prepare: () => Promise<unknown>): { state: string; done: Promise<void> } {
  const state = crypto.randomUUID();
  const tab = window.open('about:blank', '_blank');
  if (tab) tab.opener = null;
  localStorage.setItem(PENDING + state, String(Date.now()));
  const u = new URL(loginUrl);
  u.searchParams.set('redirect_uri', signInTestRedirectUri());
  u.searchParams.set('state', state);
  const done = prepare().then(
    () => { if (tab) tab.location.href = u.href; else window.location.assign(u.href); },
    (err) => { tab?.close(); localStorage.removeItem(PENDING + state); throw err; },
  );
  return { state, done };
}

/** The result of the test with this state, when the landing tab reports it. */
export function useSignInTestResult(state: string | undefined): SignInTestResult | undefined {
  const [result, setResult] = useState<SignInTestResult>();
  useEffect(() => {
    setResult(undefined);
    if (!state) return;
    const ch = new BroadcastChannel(CHANNEL);
    ch.onmessage = (e: MessageEvent<SignInTestResult>) => { if (e.data?.state === state) setResult(e.data); };
    return () => ch.close();
  }, [state]);
  return result;
}

// Decided when the console loads: the landing cleans its URL as it reads it.
const LANDING = new URLSearchParams(window.location.search).has('sign-in-test');
export const isSignInTestLanding = () => LANDING;

/** Reads the broker's answer from the landing URL, drops it from the address bar and history, and reports it. */
function readLanding(): SignInTestResult | 'unknown' {
  const q = new URLSearchParams(window.location.search);
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.hash}`);
  const state = q.get('state') ?? '';
  if (!state || localStorage.getItem(PENDING + state) === null) return 'unknown';
  localStorage.removeItem(PENDING + state);
  const token = q.get('token');
  let result: SignInTestResult;
  if (token) {
    // Shown, not trusted: the token came straight from the broker's redirect, and nothing is granted on it here.
    const part = token.split('.')[1] ?? '';
    const json = decodeURIComponent(Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    result = { state, ok: true, claims: JSON.parse(json) as SignInTestResult['claims'] };
  } else {
    result = { state, ok: false, errorCode: q.get('error_code') ?? q.get('error') ?? 'unknown', errorDescription: q.get('error_description') ?? '' };
  }
  const ch = new BroadcastChannel(CHANNEL);
  ch.postMessage(result);
  ch.close();
  return result;
}

/** What a sign-in test found: who signed in and what they get, or why it was refused. */
export function SignInTestOutcome({ result }: { result: SignInTestResult }) {
  if (!result.ok) {
    return (
      <div className="checks" role="status" data-testid="sign-in-test-result">
        <p><Badge tone="bad">Sign-in refused</Badge> <span className="mono">{result.errorCode}</span></p>
        {result.errorDescription && <p>{result.errorDescription}</p>}
      </div>
    );
  }
  const c = result.claims!;
  const list = (xs: { name?: string; displayName?: string }[]) => (xs.length ? xs.map((x) => x.name ?? x.displayName).join(', ') : <span className="muted">none</span>);
  return (
    <div className="checks" role="status" data-testid="sign-in-test-result">
      <p><Badge tone="ok">Signed in</Badge> as <b data-testid="sign-in-test-user">{c.identity.userName}</b></p>
      <dl className="props">
        <dt>Display name</dt><dd>{c.identity.displayName ?? <span className="muted">none</span>}</dd>
        <dt>Status</dt><dd>{c.identity.status}</dd>
        <dt>externalId</dt><dd className="mono">{c.identity.externalId ?? '—'}</dd>
        {c.idp && <><dt>IdP subject</dt><dd className="mono">{c.idp.sub} <span className="muted">({c.idp.iss})</span></dd></>}
        <dt>Groups</dt><dd>{list(c.groups)}</dd>
        <dt>Access groups</dt><dd>{list(c.accessGroups)}</dd>
        <dt>Datasets</dt><dd data-testid="sign-in-test-datasets">{list(c.datasets)}</dd>
      </dl>
    </div>
  );
}

/** The landing tab (`/console/?sign-in-test=1&…`): shows the result and passes it to the console tab that asked. */
let landing: SignInTestResult | 'unknown' | undefined;

export function SignInTestLanding() {
  // Read once per page load: the URL is cleaned as it is read (StrictMode renders twice).
  const [result] = useState(() => (landing ??= readLanding()));
  return (
    <main className="center" id="main">
      <div className="card">
        <h1 id="page-title" tabIndex={-1}>Sign-in test</h1>
        {result === 'unknown'
          ? <p>This sign-in was not started from this console (or its result was already shown). Start it again with <b>Sign in to test</b>.</p>
          : <><SignInTestOutcome result={result} /><p className="help">The console tab that started the test shows this result too; you can close this tab.</p></>}
      </div>
    </main>
  );
}
