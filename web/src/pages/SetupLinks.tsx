import { useEffect, useState } from 'react';
import { ApiError, del, post, tenantPath, type Principal } from '../api';
import { navigate, tpath } from '../router';
import { Confirm, CopyField, Empty, ErrorBox, Loading, PageHeader, Section, Status, useAction, useGet, when } from '../ui';

interface SetupLink {
  id: string; createdAt: string; expiresAt: string; revokedAt: string | null; lastUsedAt: string | null;
  status: 'active' | 'expired' | 'revoked'; url?: string;
}

/** Operator: set-up links for this tenant's IT admin — create (the url is shown once), copy, revoke. */
export function SetupLinksPage({ tenantId }: { tenantId: string }) {
  const base = tenantPath(tenantId, '/setup-links');
  const list = useGet<{ setupLinks: SetupLink[] }>(base);
  const [days, setDays] = useState('7');
  const [created, setCreated] = useState<SetupLink>();
  const [revoke, setRevoke] = useState<SetupLink>();
  const action = useAction();
  const dialog = useAction();

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    const l = await action.run(() => post<SetupLink>(base, { expiresInDays: Number(days) }));
    if (l) { setCreated(l); list.reload(); }
  };

  const links = list.data?.setupLinks ?? [];
  return (
    <>
      <PageHeader title="Set-up links"
        intro="Send a set-up link to this organisation's IT admin: it opens a guided set-up of their identity provider in this console, for this tenant only, without a password account." />
      <Section title="Create a link">
        <form className="inline-form" onSubmit={create}>
          <div className="field">
            <label htmlFor="link-days">Valid for</label>
            <select id="link-days" value={days} onChange={(e) => setDays(e.target.value)}>
              {[1, 3, 7, 14, 30].map((d) => <option key={d} value={d}>{d} day{d === 1 ? '' : 's'}</option>)}
            </select>
          </div>
          <button type="submit" className="primary" disabled={action.busy}>{action.busy ? 'Creating…' : 'Create set-up link'}</button>
        </form>
        <ErrorBox>{action.error}</ErrorBox>
        {created?.url && (
          <div className="secret-once" role="region" aria-label="New set-up link">
            <h3>New set-up link</h3>
            <p className="warn-text"><strong>Copy it now.</strong> The link is shown only once; anyone who has it can set this tenant up until {when(created.expiresAt)}.</p>
            <CopyField label="Set-up link" value={created.url} secret testId="setup-link-url" />
            <button type="button" className="primary" onClick={() => setCreated(undefined)}>I have copied it</button>
          </div>
        )}
      </Section>
      <Section title="Links">
        {list.loading && !list.data ? <Loading what="set-up links" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : links.length === 0 ? <Empty title="No set-up link yet">Create one and send it to the IT admin.</Empty>
          : (
            <div className="table-wrap">
              <table data-testid="setup-links-table" className="stack">
                <thead><tr><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last opened</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {links.map((l) => (
                    <tr key={l.id}>
                      <td data-label="Created">{when(l.createdAt)}</td>
                      <td data-label="Expires">{when(l.expiresAt)}</td>
                      <td data-label="Last opened">{l.lastUsedAt ? when(l.lastUsedAt) : <span className="muted">never</span>}</td>
                      <td data-label="Status"><Status value={l.status} /></td>
                      <td className="actions">
                        {l.status === 'active' && <button type="button" className="danger small" onClick={() => setRevoke(l)}>Revoke…</button>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Section>
      <Confirm open={!!revoke} title="Revoke this set-up link?" confirmLabel="Revoke link" danger busy={dialog.busy} error={dialog.error}
        onCancel={() => { setRevoke(undefined); dialog.setError(undefined); }}
        onConfirm={async () => {
          const ok = await dialog.run(async () => { await del(`${base}/${revoke!.id}`); return true; });
          if (ok) { setRevoke(undefined); list.reload(); }
        }}>
        <p>The link stops working at once, and anyone signed in through it is signed out.</p>
      </Confirm>
    </>
  );
}

/**
 * `#/setup/<tenantId>/<secret>`: exchanges the link for a console session of that tenant, then
 * removes the secret from the address bar and history and opens the guided set-up.
 */
export function SetupLinkOpen({ tenantId, secret, onOpened }: { tenantId: string; secret: string; onOpened: (p: Principal) => void }) {
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    window.history.replaceState(null, '', `${window.location.pathname}#/setup`);
    post<{ principal: Principal }>('/console/api/setup-session', { tenantId, secret }).then(
      (r) => { if (live) { onOpened(r.principal); navigate(tpath(r.principal.tenantId!, '/setup')); } },
      (err: ApiError) => { if (live) setError(err.message); },
    );
    return () => { live = false; };
  }, [tenantId, secret, onOpened]);
  return (
    <main className="signin">
      <div className="signin-card">
        <p className="brand big">idpbridge</p>
        <h1 id="page-title" tabIndex={-1}>Opening your set-up link</h1>
        {error ? <ErrorBox>{error}</ErrorBox> : <Loading what="your set-up" />}
      </div>
    </main>
  );
}
