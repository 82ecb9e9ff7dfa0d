import { useState } from 'react';
import { del, get, post, type Tenant } from '../api';
import { href, tpath } from '../router';
import { Confirm, CopyButton, Empty, ErrorBox, Loading, PageHeader, Section, useAction, useGet, when } from '../ui';

export function TenantsPage() {
  const list = useGet<{ tenants: Tenant[] }>('/admin/v1/tenants');
  const [name, setName] = useState('');
  const create = useAction();
  const remove = useAction();
  const [toDelete, setToDelete] = useState<Tenant>();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const t = await create.run(() => post<Tenant>('/admin/v1/tenants', { name: name.trim() }));
    if (t) {
      setName('');
      list.reload();
      // Straight to the IdP set-up of the new tenant.
      window.location.hash = href(tpath(t.id, '/integration')).slice(1);
    }
  };

  return (
    <>
      <PageHeader title="Tenants" intro="Each tenant is one customer organisation with its own identity provider, users, access groups and datasets." />
      <Section title="Create a tenant" id="create-tenant">
        <form className="inline-form" onSubmit={submit}>
          <div className="field grow">
            <label htmlFor="tenant-name">Organisation name</label>
            <input id="tenant-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="Contoso Ltd" />
          </div>
          <button type="submit" className="primary" disabled={create.busy || !name.trim()}>{create.busy ? 'Creating…' : 'Create tenant'}</button>
        </form>
        <ErrorBox>{create.error}</ErrorBox>
      </Section>
      <Section title="All tenants" id="tenants">
        {list.loading && !list.data ? <Loading what="tenants" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.tenants.length === 0 ? <Empty title="No tenants yet">Create the first one above: you will get its SCIM URL and secret token next.</Empty>
          : (
            <div className="table-wrap">
              <table>
                <thead><tr><th scope="col">Name</th><th scope="col">Tenant id</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {list.data!.tenants.map((t) => (
                    <tr key={t.id}>
                      <td><a href={href(tpath(t.id, '/integration'))}>{t.name}</a></td>
                      <td className="mono small">{t.id} <CopyButton text={t.id} what="tenant id" /></td>
                      <td>{when(t.createdAt)}</td>
                      <td className="actions"><button type="button" className="danger small" onClick={() => setToDelete(t)}>Delete…</button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Section>
      <Confirm open={!!toDelete} title={`Delete “${toDelete?.name ?? ''}”?`} confirmLabel="Delete tenant and all its data" danger
        busy={remove.busy} error={remove.error}
        onCancel={() => { setToDelete(undefined); remove.setError(undefined); }}
        onConfirm={async () => {
          const ok = await remove.run(async () => { await del(`/admin/v1/tenants/${toDelete!.id}`); return true; });
          if (ok) { setToDelete(undefined); list.reload(); }
        }}>
        <p>All its users, groups, access groups, datasets, tokens, webhooks and logs are deleted at once. Its IdP will get errors on the next sync. This cannot be undone.</p>
      </Confirm>
    </>
  );
}

export const fetchTenant = (id: string) => get<Tenant>(`/admin/v1/tenants/${id}`);
