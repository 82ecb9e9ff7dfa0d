import { useState } from 'react';
import { del, patch, post, tenantPath, type ConsoleAccount } from '../api';
import { Badge, Confirm, Empty, ErrorBox, Loading, PageHeader, Section, useAction, useGet, when } from '../ui';

export function AdminsPage({ tenantId }: { tenantId: string }) {
  const base = tenantPath(tenantId, '/console-accounts');
  const list = useGet<{ accounts: ConsoleAccount[] }>(base);
  const [form, setForm] = useState({ login: '', password: '', displayName: '' });
  const a = useAction();
  const [toDelete, setToDelete] = useState<ConsoleAccount>();
  const [reset, setReset] = useState<ConsoleAccount>();
  const [newPassword, setNewPassword] = useState('');
  const [done, setDone] = useState<string>();
  return (
    <>
      <PageHeader title="Console accounts" intro="Sign-ins for this organisation's IT administrators. They see and manage this tenant only. Only the operator can manage these accounts." />
      <Section title="Create an account" id="create-acc">
        <form className="grid-form" onSubmit={async (e) => {
          e.preventDefault();
          const body: Record<string, string> = { login: form.login.trim(), password: form.password };
          if (form.displayName.trim()) body.displayName = form.displayName.trim();
          if (await a.run(() => post(base, body))) { setDone(`Account ${form.login.trim()} created. Give its login and password to the administrator over a safe channel.`); setForm({ login: '', password: '', displayName: '' }); list.reload(); }
        }}>
          <div className="field"><label htmlFor="acc-login">Login (e.g. e-mail)</label><input id="acc-login" required autoComplete="off" value={form.login} onChange={(e) => setForm({ ...form, login: e.target.value })} /></div>
          <div className="field"><label htmlFor="acc-name">Name</label><input id="acc-name" value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} /></div>
          <div className="field"><label htmlFor="acc-pw">Password</label><input id="acc-pw" type="password" required minLength={12} autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} aria-describedby="acc-pw-help" />
            <p className="help" id="acc-pw-help">At least 12 characters.</p></div>
          <ErrorBox>{a.error}</ErrorBox>
          <div className="form-actions full"><button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Creating…' : 'Create account'}</button></div>
        </form>
        {done && <p className="notice" role="status">{done}</p>}
      </Section>
      <Section title="Accounts" id="accs">
        {list.loading && !list.data ? <Loading what="accounts" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.accounts.length === 0 ? <Empty title="No console accounts">Create one so the organisation's IT admin can set up their IdP without your operator token.</Empty>
          : (
            <div className="table-wrap"><table>
              <thead><tr><th scope="col">Login</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Last sign-in</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>{list.data!.accounts.map((x) => (
                <tr key={x.id}>
                  <td>{x.login}</td><td>{x.displayName ?? '—'}</td>
                  <td>{x.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="ok">enabled</Badge>}</td>
                  <td>{when(x.lastLoginAt)}</td>
                  <td className="actions">
                    <button type="button" className="secondary small" onClick={async () => { if (await a.run(() => patch(`${base}/${x.id}`, { disabled: !x.disabled }))) list.reload(); }}>{x.disabled ? 'Enable' : 'Disable'}</button>
                    <button type="button" className="secondary small" onClick={() => { setNewPassword(''); setReset(x); }}>Set password…</button>
                    <button type="button" className="danger small" onClick={() => setToDelete(x)}>Delete…</button>
                  </td>
                </tr>
              ))}</tbody>
            </table></div>
          )}
      </Section>
      <Confirm open={!!reset} title={`New password for ${reset?.login ?? ''}`} confirmLabel="Set password" busy={a.busy} error={a.error}
        onCancel={() => setReset(undefined)}
        onConfirm={async () => { if (await a.run(() => patch(`${base}/${reset!.id}`, { password: newPassword }))) { setReset(undefined); setDone('Password changed; the account was signed out everywhere.'); } }}>
        <div className="field"><label htmlFor="reset-pw">New password (at least 12 characters)</label><input id="reset-pw" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNewPassword(e.target.value)} /></div>
      </Confirm>
      <Confirm open={!!toDelete} title={`Delete ${toDelete?.login ?? ''}?`} confirmLabel="Delete account" danger busy={a.busy} error={a.error}
        onCancel={() => setToDelete(undefined)}
        onConfirm={async () => { if (await a.run(async () => { await del(`${base}/${toDelete!.id}`); return true; })) { setToDelete(undefined); list.reload(); } }}>
        <p>The account is signed out at once and can no longer sign in.</p>
      </Confirm>
    </>
  );
}
