import { useState } from 'react';
import { del, post, qs, tenantPath, type Dataset } from '../api';
import { Confirm, Empty, ErrorBox, Loading, PageHeader, Pager, Section, useAction, useGet, when } from '../ui';

const LIMIT = 100;

export function DatasetsPage({ tenantId }: { tenantId: string }) {
  const [offset, setOffset] = useState(0);
  const list = useGet<{ total: number; datasets: Dataset[] }>(tenantPath(tenantId, `/datasets${qs({ offset, limit: LIMIT })}`));
  const [form, setForm] = useState({ name: '', externalId: '', description: '' });
  const a = useAction();
  const [toDelete, setToDelete] = useState<Dataset>();
  return (
    <>
      <PageHeader title="Datasets" intro="Protected resources of your product. Assign them to access groups; users may also be granted datasets directly by a SCIM attribute naming the dataset id or externalId." />
      <Section title="Create a dataset" id="create-ds">
        <form className="grid-form" onSubmit={async (e) => {
          e.preventDefault();
          const body: Record<string, string> = { name: form.name.trim() };
          if (form.externalId.trim()) body.externalId = form.externalId.trim();
          if (form.description.trim()) body.description = form.description.trim();
          if (await a.run(() => post(tenantPath(tenantId, '/datasets'), body))) { setForm({ name: '', externalId: '', description: '' }); list.reload(); }
        }}>
          <div className="field"><label htmlFor="ds-name">Name</label><input id="ds-name" required maxLength={256} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} /></div>
          <div className="field"><label htmlFor="ds-ext">externalId <span className="muted">(your product's reference, optional)</span></label><input id="ds-ext" maxLength={500} value={form.externalId} onChange={(e) => setForm({ ...form, externalId: e.target.value })} /></div>
          <div className="field full"><label htmlFor="ds-desc">Description</label><input id="ds-desc" maxLength={2000} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} /></div>
          <ErrorBox>{a.error}</ErrorBox>
          <div className="form-actions full"><button type="submit" className="primary" disabled={a.busy || !form.name.trim()}>{a.busy ? 'Creating…' : 'Create dataset'}</button></div>
        </form>
      </Section>
      <Section title="All datasets" id="ds">
        {list.loading && !list.data ? <Loading what="datasets" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.datasets.length === 0 ? <Empty title="No datasets yet">Create the datasets your product protects, then assign them to access groups.</Empty>
          : (
            <>
              <div className="table-wrap"><table data-testid="datasets-table">
                <thead><tr><th scope="col">Name</th><th scope="col">externalId</th><th scope="col" className="hide-narrow">Description</th><th scope="col" className="hide-narrow">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>{list.data!.datasets.map((d) => (
                  <tr key={d.id}>
                    <td>{d.name}</td><td className="mono">{d.externalId ?? '—'}</td><td className="hide-narrow">{d.description ?? '—'}</td><td className="hide-narrow">{when(d.createdAt)}</td>
                    <td className="actions"><button type="button" className="danger small" onClick={() => setToDelete(d)}>Delete…</button></td>
                  </tr>
                ))}</tbody>
              </table></div>
              <Pager offset={offset} limit={LIMIT} total={list.data!.total} shown={list.data!.datasets.length} what="datasets" onChange={setOffset} />
            </>
          )}
      </Section>
      <Confirm open={!!toDelete} title={`Delete “${toDelete?.name ?? ''}”?`} confirmLabel="Delete dataset" danger busy={a.busy} error={a.error}
        onCancel={() => setToDelete(undefined)}
        onConfirm={async () => { if (await a.run(async () => { await del(tenantPath(tenantId, `/datasets/${toDelete!.id}`)); return true; })) { setToDelete(undefined); list.reload(); } }}>
        <p>Access through it ends at once for every user and access group.</p>
      </Confirm>
    </>
  );
}
