import { useState } from 'react';
import { post, type Principal } from '../api';
import { ErrorBox, useAction } from '../ui';
import { useRoute } from '../router';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (p: Principal) => void; notice?: string }) {
  const route = useRoute();
  // #/?org=<tenant id> (the console link for an organisation) and the reason an IdP sign-in came back refused.
  const [org, setOrg] = useState(() => route.query.get('org') ?? '');
  const ssoError = route.query.get('sso_error');
  const [mode, setMode] = useState<'account' | 'operator'>('account');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const { busy, error, run } = useAction();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const r = await run(() => post<{ principal: Principal }>('/console/api/session',
      mode === 'operator' ? { operatorToken: token.trim() } : { login: login.trim(), password }));
    if (r) onSignedIn(r.principal);
  };

  return (
    <main className="signin">
      <div className="signin-card">
        <p className="brand big">idpbridge</p>
        <h1 id="page-title" tabIndex={-1}>Sign in to the console</h1>
        {notice && <p className="notice" role="status">{notice}</p>}
        {ssoError && <ErrorBox>{ssoError}</ErrorBox>}
        <div className="segmented" role="tablist" aria-label="Sign-in method">
          <button type="button" role="tab" aria-selected={mode === 'account'} onClick={() => setMode('account')}>Tenant administrator</button>
          <button type="button" role="tab" aria-selected={mode === 'operator'} onClick={() => setMode('operator')}>Operator</button>
        </div>
        <form onSubmit={submit} aria-busy={busy}>
          {mode === 'account' ? (
            <>
              <div className="field">
                <label htmlFor="login">Login</label>
                <input id="login" name="username" autoComplete="username" required value={login} onChange={(e) => setLogin(e.target.value)} autoFocus />
              </div>
              <div className="field">
                <label htmlFor="password">Password</label>
                <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
              </div>
            </>
          ) : (
            <div className="field">
              <label htmlFor="operator-token">Operator token</label>
              <input id="operator-token" type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)}
                aria-describedby="operator-token-help" autoFocus spellCheck={false} />
              <p id="operator-token-help" className="help">The value of IDPBRIDGE_ADMIN_TOKEN, or the token printed on the server's first start.</p>
            </div>
          )}
          <ErrorBox>{error}</ErrorBox>
          <button type="submit" className="primary wide" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
        {mode === 'account' && (
          <form className="org-signin" aria-labelledby="org-signin-title"
            onSubmit={(e) => { e.preventDefault(); window.location.assign(`/console/api/sso/start?tenantId=${encodeURIComponent(org.trim())}`); }}>
            <h2 id="org-signin-title">Or sign in with your organisation</h2>
            <div className="field">
              <label htmlFor="org-id">Organisation id</label>
              <input id="org-id" required value={org} onChange={(e) => setOrg(e.target.value)} spellCheck={false} autoComplete="off"
                pattern="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" title="The organisation id: 36 characters such as 0f8fad5b-d9cb-469f-a165-70867728950e" aria-describedby="org-id-help" />
              <p id="org-id-help" className="help">Filled in when you open your organisation's console link. Your console account's login must be your user name at your identity provider.</p>
            </div>
            <button type="submit" className="secondary wide" data-testid="org-signin">Sign in with your organisation</button>
          </form>
        )}
      </div>
    </main>
  );
}
