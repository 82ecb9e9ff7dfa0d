import { Fragment, useCallback, useEffect, useId, useState } from 'react';
import { del, patch, post, put, qs, tenantPath, type DirectoryUser } from '../api';
import type { Features } from '../App';
import { href, navigate, tpath, useRoute } from '../router';
import { ProvisioningOverrides } from './ProvisioningOverrides';
import {
  Badge, Confirm, Empty, ErrorBox, Loading, PageHeader, Pager, SearchBox, SecretOnce, Section, Status, useAction, useGet, when,
} from '../ui';

const LIMIT = 50;

export function SourceBadge({ source }: { source: string }) {
  return source === 'manual'
    ? <Badge tone="info" title="Created in this console or the admin API">Manual</Badge>
    : <Badge tone="muted" title="Provisioned by the IdP: read-only here, change it in the IdP">Provisioned · read-only</Badge>;
}

export function UsersPage({ tenantId, features }: { tenantId: string; features: Features }) {
  const route = useRoute();
  const search = route.query.get('search') ?? '';
  const offset = Number(route.query.get('offset') ?? 0) || 0;
  const list = useGet<{ total: number; users: DirectoryUser[] }>(tenantPath(tenantId, `/scim-users${qs({ search, offset, limit: LIMIT })}`));
  const go = useCallback((q: { search?: string; offset?: number }) => navigate(tpath(tenantId, '/users'), { search: q.search ?? search, offset: q.offset ?? 0 }), [tenantId, search]);
  const canCreate = features.has('/admin/v1/tenants/{tenantId}/users');
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader title="Users" intro="Users your IdP provisioned (read-only here: change them in the IdP) and users added by hand.">
        {canCreate && <button type="button" className="secondary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>Add a user by hand</button>}
      </PageHeader>
      {creating && <CreateUser tenantId={tenantId} onCreated={(id) => navigate(tpath(tenantId, `/users/${id}`))} />}
      <Section title="Directory" id="users" actions={<SearchBox value={search} label="Search users" placeholder="Search by user name, display name or externalId" onSearch={(q) => go({ search: q })} />}>
        {list.loading && !list.data ? <Loading what="users" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.users.length === 0 ? (
            search ? <Empty title={`No user matches “${search}”`}>Try part of the user name or display name.</Empty>
              : <Empty title="No users yet">Users appear here as soon as your IdP provisions them: assign users or groups to the idpbridge application in Entra or Okta and start provisioning (IdP integration page).</Empty>
          ) : (
            <>
              <div className="table-wrap" aria-busy={list.loading}>
                <table data-testid="users-table" className="stack">
                  <thead><tr><th scope="col">User name</th><th scope="col">Display name</th><th scope="col" className="hide-narrow">E-mail</th><th scope="col">Status</th><th scope="col">Source</th></tr></thead>
                  <tbody>
                    {list.data!.users.map((u) => (
                      <tr key={u.id}>
                        <td data-label="User name"><a href={href(tpath(tenantId, `/users/${u.id}`))}>{u.userName}</a></td>
                        <td data-label="Display name">{u.displayName ?? <span className="muted">—</span>}</td>
                        <td data-label="E-mail" className="hide-narrow">{u.email ?? <span className="muted">—</span>}</td>
                        <td data-label="Status"><Status value={u.status} /></td>
                        <td data-label="Source"><SourceBadge source={u.source} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager offset={offset} limit={LIMIT} total={list.data!.total} shown={list.data!.users.length} what="users" onChange={(o) => go({ offset: o })} />
            </>
          )}
      </Section>
    </>
  );
}

function CreateUser({ tenantId, onCreated }: { tenantId: string; onCreated: (id: string) => void }) {
  const [userName, setUserName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const a = useAction();
  return (
    <Section title="Add a user by hand" id="create-user">
      <p className="help">A manual user. If your IdP later provisions a user with the same user name, it is adopted (becomes provisioned) instead of duplicated.</p>
      <form className="grid-form" onSubmit={async (e) => {
        e.preventDefault();
        const body: Record<string, unknown> = { userName: userName.trim() };
        if (displayName.trim()) body.displayName = displayName.trim();
        if (email.trim()) body.emails = [{ value: email.trim(), type: 'work', primary: true }];
        const r = await a.run(() => post<{ id: string }>(tenantPath(tenantId, '/users'), body));
        if (r) onCreated(r.id);
      }}>
        <div className="field"><label htmlFor="nu-name">User name</label><input id="nu-name" required value={userName} onChange={(e) => setUserName(e.target.value)} /></div>
        <div className="field"><label htmlFor="nu-display">Display name</label><input id="nu-display" value={displayName} onChange={(e) => setDisplayName(e.target.value)} /></div>
        <div className="field"><label htmlFor="nu-email">E-mail</label><input id="nu-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} /></div>
        <ErrorBox>{a.error}</ErrorBox>
        <div className="form-actions full"><button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Adding…' : 'Add user'}</button></div>
      </form>
    </Section>
  );
}

interface UserDetail {
  id: string; userName: string; displayName: string | null; externalId: string | null; status: string; source: string; active: boolean;
  readOnly: boolean; emails: { value: string; type?: string }[]; userType: string | null; roles: string[]; metadata: Record<string, string>;
  createdAt: string; updatedAt: string;
  groups: { id: string; displayName: string }[]; accessGroups: { id: string; name: string }[];
  datasets: { id: string; name: string }[]; grants: { value: string; datasetId: string | null; datasetName: string | null }[];
}

interface ApiKey { id: string; name: string; keyHint: string; auto: boolean; enabled: boolean; disabledReason: string | null; createdAt: string; lastUsedAt: string | null; key?: string }

export function UserPage({ tenantId, userId, features }: { tenantId: string; userId: string; features: Features }) {
  const u = useGet<UserDetail>(tenantPath(tenantId, `/users/${userId}`));
  const hasKeys = features.has('/admin/v1/tenants/{tenantId}/users/{userId}/api-keys');
  const hasLoginMethod = features.has('/admin/v1/tenants/{tenantId}/users/{userId}/login-method');
  const hasOverrides = features.has('/admin/v1/tenants/{tenantId}/users/{userId}/provisioning');
  const act = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const back = <a href={href(tpath(tenantId, '/users'))}>← All users</a>;
  if (u.error) return <><p>{back}</p><ErrorBox onRetry={u.reload}>{u.error}</ErrorBox></>;
  if (!u.data) return <><p>{back}</p><Loading what="the user" /></>;
  const d = u.data;
  return (
    <>
      <p>{back}</p>
      <PageHeader title={d.displayName ?? d.userName}>
        <SourceBadge source={d.source} />
      </PageHeader>
      {d.readOnly && <p className="notice">Provisioned by your IdP: its fields are read-only here. Change them in Entra or Okta; the next sync updates them.</p>}
      <Section title="Profile" id="profile">
        <dl className="props">
          <dt>User name</dt><dd className="mono">{d.userName}</dd>
          <dt>Status</dt><dd><Status value={d.status} /> {d.status === 'staged' && (
            <button type="button" className="primary small" disabled={act.busy} onClick={async () => { if (await act.run(() => patch(tenantPath(tenantId, `/users/${userId}`), { status: 'active' }))) u.reload(); }}>Activate</button>
          )}</dd>
          <dt>E-mail</dt><dd>{d.emails.map((e) => e.value).join(', ') || '—'}</dd>
          <dt>externalId</dt><dd className="mono">{d.externalId ?? '—'}</dd>
          <dt>userType</dt><dd>{d.userType ?? '—'}</dd>
          <dt>Created</dt><dd>{when(d.createdAt)}</dd>
          <dt>Updated</dt><dd>{when(d.updatedAt)}</dd>
        </dl>
        <ErrorBox>{act.error}</ErrorBox>
        {d.source === 'manual' && <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>Delete user…</button>}
      </Section>
      <Section title="Access" id="access">
        <div className="cols">
          <div><h3>IdP groups</h3>{d.groups.length ? <ul>{d.groups.map((g) => <li key={g.id}><a href={href(tpath(tenantId, `/groups/${g.id}`))}>{g.displayName}</a></li>)}</ul> : <p className="muted">In no group.</p>}</div>
          <div><h3>Access groups</h3>{d.accessGroups.length ? <ul>{d.accessGroups.map((g) => <li key={g.id}><a href={href(tpath(tenantId, `/access-groups/${g.id}`))}>{g.name}</a></li>)}</ul> : <p className="muted">In no access group.</p>}</div>
          <div><h3>Datasets</h3>{d.datasets.length ? <ul>{d.datasets.map((x) => <li key={x.id}>{x.name}</li>)}</ul> : <p className="muted">No dataset access.</p>}</div>
        </div>
        {d.grants.length > 0 && <p className="help">Direct grants: {d.grants.map((g) => g.datasetName ?? `${g.value} (no such dataset yet)`).join(', ')}</p>}
      </Section>
      <Roles tenantId={tenantId} user={d} onSaved={u.reload} />
      <Metadata values={d.metadata ?? {}} />
      {hasLoginMethod && <LoginMethod tenantId={tenantId} userId={userId} />}
      {hasOverrides && <ProvisioningOverrides path={tenantPath(tenantId, `/users/${userId}/provisioning`)} scope="identity" />}
      {hasKeys && <ApiKeys tenantId={tenantId} userId={userId} />}
      <Confirm open={confirmDelete} title={`Delete ${d.userName}?`} confirmLabel="Delete user" danger busy={act.busy} error={act.error}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={async () => { if (await act.run(async () => { await del(tenantPath(tenantId, `/users/${userId}`)); return true; })) navigate(tpath(tenantId, '/users')); }}>
        <p>The user, its memberships, grants and API keys are deleted.</p>
      </Confirm>
    </>
  );
}

function ApiKeys({ tenantId, userId }: { tenantId: string; userId: string }) {
  const base = tenantPath(tenantId, `/users/${userId}/api-keys`);
  const list = useGet<{ apiKeys: ApiKey[] }>(base);
  const a = useAction();
  const [secret, setSecret] = useState<string>();
  return (
    <Section title="API keys" id="keys" actions={<button type="button" className="secondary small" disabled={a.busy} onClick={async () => {
      const k = await a.run(() => post<ApiKey>(base, { name: 'API key' }));
      if (k?.key) { setSecret(k.key); list.reload(); }
    }}>Create API key</button>}>
      {secret && <SecretOnce title="New API key" secret={secret} onDone={() => setSecret(undefined)} />}
      <ErrorBox>{a.error}</ErrorBox>
      {list.loading && !list.data ? <Loading what="API keys" />
        : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
        : list.data!.apiKeys.length === 0 ? <Empty title="No API keys" />
        : (
          <div className="table-wrap"><table>
            <thead><tr><th scope="col">Name</th><th scope="col">Ends with</th><th scope="col">State</th><th scope="col">Last used</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{list.data!.apiKeys.map((k) => (
              <tr key={k.id}>
                <td>{k.name} {k.auto && <Badge tone="muted">auto</Badge>}</td>
                <td className="mono">{k.keyHint}</td>
                <td>{k.enabled ? <Status value="active" /> : <Badge tone="bad">{k.disabledReason === 'identity_suspended' ? 'user suspended' : 'disabled'}</Badge>}</td>
                <td>{when(k.lastUsedAt)}</td>
                <td className="actions">
                  <button type="button" className="secondary small" onClick={async () => { const r = await a.run(() => post<ApiKey>(`${base}/${k.id}/rotate`)); if (r?.key) { setSecret(r.key); list.reload(); } }}>Rotate</button>
                  <button type="button" className="danger small" onClick={async () => { if (await a.run(async () => { await del(`${base}/${k.id}`); return true; })) list.reload(); }}>Delete</button>
                </td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
    </Section>
  );
}

/** Roles (seed 004: ReadOnly, User, Admin…): shown for every identity, edited on manual ones; the API checks them against the tenant's allow-list. */
function Roles({ tenantId, user, onSaved }: { tenantId: string; user: UserDetail; onSaved: () => void }) {
  const settings = useGet<{ roleAllowList?: string[] }>(tenantPath(tenantId, '/settings'));
  const allowed = settings.data?.roleAllowList ?? [];
  const [draft, setDraft] = useState(user.roles.join(', '));
  const [saved, setSaved] = useState(false);
  const a = useAction();
  const id = useId();
  useEffect(() => setDraft(user.roles.join(', ')), [user.roles]);
  const editable = user.source === 'manual';
  return (
    <Section title="Roles" id="roles">
      {user.roles.length
        ? <ul className="chips" data-testid="user-roles">{user.roles.map((r) => <li key={r}>{r}</li>)}</ul>
        : <p className="muted" data-testid="user-roles">No roles.</p>}
      {allowed.length > 0 && <p className="help">Roles this tenant allows: {allowed.map((r, i) => <span key={r}>{i > 0 && ', '}<code>{r}</code></span>)}.</p>}
      {!editable ? <p className="help">Provisioned by your IdP: roles come from the IdP's <code>roles</code> mapping (seed guides: appRoleAssignments in Entra, a roles attribute in Okta).</p> : (
        <form className="inline-form" onSubmit={async (e) => {
          e.preventDefault();
          setSaved(false);
          const roles = draft.split(/[,\n]/).map((r) => r.trim()).filter(Boolean);
          if (await a.run(() => patch(tenantPath(tenantId, `/users/${user.id}`), { roles: roles.length ? roles : null }))) { setSaved(true); onSaved(); }
        }}>
          <div className="field grow">
            <label htmlFor={id}>Roles <span className="muted">(comma-separated)</span></label>
            <input id={id} value={draft} onChange={(e) => { setDraft(e.target.value); setSaved(false); }} placeholder={allowed.length ? allowed.join(', ') : 'User, Admin'} />
          </div>
          <button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Saving…' : 'Save roles'}</button>
          <span role="status" aria-live="polite">{saved ? 'Roles saved.' : ''}</span>
        </form>
      )}
      <ErrorBox>{a.error}</ErrorBox>
    </Section>
  );
}

/** The `Metadata` extension's values (read-only: they come from the IdP or the admin API). */
function Metadata({ values }: { values: Record<string, string> }) {
  const entries = Object.entries(values);
  return (
    <Section title="Metadata" id="metadata">
      {entries.length === 0 ? <p className="muted">No Metadata values. Register Metadata attributes in Provisioning settings (extension attributes) and map them in your IdP.</p> : (
        <dl className="props" data-testid="user-metadata">
          {entries.map(([k, v]) => <Fragment key={k}><dt className="mono">{k}</dt><dd>{v}</dd></Fragment>)}
        </dl>
      )}
    </Section>
  );
}

interface LoginMethodView { method: 'idp' | 'password'; passwordSet: boolean; lockedUntil: string | null; lastLoginAt: string | null; updatedAt: string | null }

/** How the user signs in: through the tenant's IdP (default) or with a built-in password (guests not in the IdP). */
function LoginMethod({ tenantId, userId }: { tenantId: string; userId: string }) {
  const path = tenantPath(tenantId, `/users/${userId}/login-method`);
  const lm = useGet<LoginMethodView>(path);
  const [method, setMethod] = useState<'idp' | 'password'>('idp');
  const [password, setPassword] = useState('');
  const [saved, setSaved] = useState<string>();
  const a = useAction();
  const pwId = useId();
  useEffect(() => { if (lm.data) setMethod(lm.data.method); }, [lm.data]);
  if (lm.loading && !lm.data) return <Section title="Sign-in" id="login-method"><Loading what="the login method" /></Section>;
  if (lm.error) return <Section title="Sign-in" id="login-method"><ErrorBox onRetry={lm.reload}>{lm.error}</ErrorBox></Section>;
  const d = lm.data!;
  const needsPassword = method === 'password' && !d.passwordSet;
  return (
    <Section title="Sign-in" id="login-method">
      <p data-testid="login-method">
        Signs in {d.method === 'idp' ? <b>through the identity provider</b> : <b>with a password</b>}
        {d.method === 'password' && d.passwordSet && ' (set)'}
        {d.lockedUntil && <> · <Badge tone="bad">locked until {when(d.lockedUntil)}</Badge></>}
        {' · '}last sign-in {d.lastLoginAt ? when(d.lastLoginAt) : 'never'}
      </p>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setSaved(undefined);
        const body: Record<string, string> = { method };
        if (method === 'password' && password) body.password = password;
        if (await a.run(() => put(path, body))) {
          setPassword('');
          setSaved(method === 'password' ? (password ? 'Password set: the user signs in with it from now on.' : 'Saved.') : 'Saved: the user signs in through the IdP; any password is forgotten.');
          lm.reload();
        }
      }}>
        <fieldset>
          <legend>Login method</legend>
          <label className="radio"><input type="radio" name="login-method" value="idp" checked={method === 'idp'} onChange={() => setMethod('idp')} /> Through the identity provider (default)</label>
          <label className="radio"><input type="radio" name="login-method" value="password" checked={method === 'password'} onChange={() => setMethod('password')} /> With a password (guests who are not in the IdP)</label>
        </fieldset>
        {method === 'password' && (
          <div className="field">
            <label htmlFor={pwId}>{d.passwordSet ? 'New password (leave empty to keep the current one)' : 'Password'} <span className="muted">(at least 12 characters; never shown again)</span></label>
            <input id={pwId} type="password" autoComplete="new-password" minLength={12} maxLength={1024} required={needsPassword}
              value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
        )}
        {method === 'idp' && d.method === 'password' && <p className="help">Switching to the IdP forgets the password.</p>}
        <ErrorBox>{a.error}</ErrorBox>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Saving…' : method === 'password' && password ? 'Set password' : 'Save login method'}</button>
          <span role="status" aria-live="polite">{saved ?? ''}</span>
        </div>
      </form>
    </Section>
  );
}
