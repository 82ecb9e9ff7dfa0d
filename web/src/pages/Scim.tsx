import { useCallback, useEffect, useId, useState } from 'react';
import { ApiError, del, get, put, tenantPath } from '../api';
import { Confirm, ErrorBox, Loading, useAction } from '../ui';

/**
 * The optional HTTP Basic credential for IdPs that cannot send a bearer token: set a username and
 * password (the password is write-only, never shown), see the username, remove it.
 */
export function BasicCredential({ tenantId }: { tenantId: string }) {
  const path = tenantPath(tenantId, '/scim-basic');
  const [state, setState] = useState<{ loading: boolean; username: string | null; error?: string }>({ loading: true, username: null });
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [editing, setEditing] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [saved, setSaved] = useState<string>();
  const a = useAction();
  const dialog = useAction();
  const userId = useId();
  const pwId = useId();

  // GET …/scim-basic answers 404 while no credential is set: that is "none", not an error.
  const load = useCallback(async () => {
    setState((s) => ({ ...s, loading: true, error: undefined }));
    try {
      const r = await get<{ username: string }>(path);
      setState({ loading: false, username: r.username });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.code === 'ERR_NOT_FOUND' && /basic credential/.test(err.message)) setState({ loading: false, username: null });
      else setState({ loading: false, username: null, error: (err as Error).message });
    }
  }, [path]);
  useEffect(() => { void load(); }, [load]);

  const current = state.username;
  const showForm = editing || (!state.loading && !state.error && current === null);

  return (
    <div className="subsection" data-testid="scim-basic">
      <h3>HTTP Basic credential <span className="muted">(optional)</span></h3>
      <p className="help">Only for IdPs that cannot send a bearer token (Okta's <i>Basic Auth</i> authentication mode, some older connectors). Entra ID and Okta's <i>HTTP Header</i> mode use the secret token above.</p>
      {state.loading ? <Loading what="the Basic credential" />
        : state.error ? <ErrorBox onRetry={load}>{state.error}</ErrorBox>
        : current !== null && (
          <p>Set for username <b className="mono" data-testid="scim-basic-username">{current}</b>; the password is never shown.
            {' '}<button type="button" className="secondary small" onClick={() => { setEditing(true); setUsername(current); setSaved(undefined); }} aria-expanded={editing}>Change…</button>
            {' '}<button type="button" className="danger small" onClick={() => setConfirmRemove(true)}>Remove…</button>
          </p>
        )}
      {showForm && (
        <form className="grid-form" onSubmit={async (e) => {
          e.preventDefault();
          setSaved(undefined);
          const ok = await a.run(async () => { await put(path, { username: username.trim(), password }); return true; });
          if (ok) { setPassword(''); setEditing(false); setSaved('Basic credential saved. Enter the same username and password in your IdP.'); await load(); }
        }}>
          <div className="field"><label htmlFor={userId}>Username</label>
            <input id={userId} required maxLength={200} autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} /></div>
          <div className="field"><label htmlFor={pwId}>Password <span className="muted">(at least 16 characters; write-only)</span></label>
            <input id={pwId} type="password" required minLength={16} maxLength={1024} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} /></div>
          <ErrorBox>{a.error}</ErrorBox>
          <div className="form-actions full">
            <button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Saving…' : 'Save Basic credential'}</button>
            {editing && <button type="button" className="secondary" onClick={() => { setEditing(false); setPassword(''); a.setError(undefined); }}>Cancel</button>}
          </div>
        </form>
      )}
      <p role="status" aria-live="polite" className="help">{saved ?? ''}</p>
      <Confirm open={confirmRemove} title="Remove the Basic credential?" confirmLabel="Remove credential" danger busy={dialog.busy} error={dialog.error}
        onCancel={() => { setConfirmRemove(false); dialog.setError(undefined); }}
        onConfirm={async () => {
          if (await dialog.run(async () => { await del(path); return true; })) { setConfirmRemove(false); setSaved('Basic credential removed.'); await load(); }
        }}>
        <p>An IdP signing in with username <b>{current}</b> is refused from now on. Bearer tokens keep working.</p>
      </Confirm>
    </div>
  );
}
