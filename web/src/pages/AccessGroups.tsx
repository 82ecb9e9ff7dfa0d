import { useState } from 'react';
import { del, get, post, qs, tenantPath, type AccessGroup, type Dataset, type Member } from '../api';
import { href, navigate, tpath } from '../router';
import { Badge, Confirm, Empty, ErrorBox, Loading, PageHeader, Section, Status, useAction, useGet } from '../ui';
import { ProvisioningOverrides } from './ProvisioningOverrides';

function LinkedGroup({ tenantId, ag }: { tenantId: string; ag: AccessGroup }) {
  return ag.linkedGroup
    ? <span data-testid="linked-group"><Badge tone="ok">Linked</Badge> IdP group <a href={href(tpath(tenantId, `/groups/${ag.linkedGroup.id}`))}>{ag.linkedGroup.displayName}</a></span>
    : <span className="muted" data-testid="linked-group">No IdP group named exactly “{ag.name}” (yet)</span>;
}

export function AccessGroupsPage({ tenantId }: { tenantId: string }) {
  const [offset, setOffset] = useState(0);
  const list = useGet<{ total: number; accessGroups: AccessGroup[] }>(tenantPath(tenantId, `/access-groups${qs({ offset, limit: 100 })}`));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const a = useAction();
  return (
    <>
      <PageHeader title="Access groups" intro="Your product's own groups. Each links automatically to the IdP group with exactly the same name (case-sensitive): that group's members become members here, now and whenever it changes." />
      <Section title="Create an access group" id="create-ag">
        <form className="grid-form" onSubmit={async (e) => {
          e.preventDefault();
          const ag = await a.run(() => post<AccessGroup>(tenantPath(tenantId, '/access-groups'), { name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}) }));
          if (ag) navigate(tpath(tenantId, `/access-groups/${ag.id}`));
        }}>
          <div className="field"><label htmlFor="ag-name">Name <span className="muted">(= the IdP group's name)</span></label><input id="ag-name" required maxLength={256} value={name} onChange={(e) => setName(e.target.value)} /></div>
          <div className="field"><label htmlFor="ag-desc">Description</label><input id="ag-desc" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} /></div>
          <ErrorBox>{a.error}</ErrorBox>
          <div className="form-actions full"><button type="submit" className="primary" disabled={a.busy || !name.trim()}>{a.busy ? 'Creating…' : 'Create access group'}</button></div>
        </form>
      </Section>
      <Section title="All access groups" id="ags">
        {list.loading && !list.data ? <Loading what="access groups" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.accessGroups.length === 0 ? <Empty title="No access groups yet">Create one named exactly like an IdP group (see the Groups page) and assign datasets to it.</Empty>
          : (
            <div className="table-wrap"><table data-testid="access-groups-table">
              <thead><tr><th scope="col">Name</th><th scope="col">IdP group</th></tr></thead>
              <tbody>{list.data!.accessGroups.map((ag) => (
                <tr key={ag.id}><td><a href={href(tpath(tenantId, `/access-groups/${ag.id}`))}>{ag.name}</a></td><td><LinkedGroup tenantId={tenantId} ag={ag} /></td></tr>
              ))}</tbody>
            </table></div>
          )}
        {list.data && list.data.total > 100 && (
          <p className="pager"><button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(offset - 100)}>← Previous</button>
            <button type="button" className="secondary" disabled={offset + 100 >= list.data.total} onClick={() => setOffset(offset + 100)}>Next →</button></p>
        )}
      </Section>
    </>
  );
}

export function AccessGroupPage({ tenantId, agId }: { tenantId: string; agId: string }) {
  const base = tenantPath(tenantId, `/access-groups/${agId}`);
  const ag = useGet<AccessGroup>(base);
  const [after, setAfter] = useState<string[]>([]);
  const members = useGet<{ members: Member[]; next: string | null }>(`${base}/members${qs({ limit: 50, after: after[after.length - 1] })}`);
  const datasets = useGet<{ datasets: Dataset[] }>(`${base}/datasets`);
  const all = useGet<{ datasets: Dataset[] }>(tenantPath(tenantId, '/datasets?limit=1000'));
  const [pick, setPick] = useState('');
  const [userName, setUserName] = useState('');
  const a = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const back = <a href={href(tpath(tenantId, '/access-groups'))}>← All access groups</a>;
  if (ag.error) return <><p>{back}</p><ErrorBox onRetry={ag.reload}>{ag.error}</ErrorBox></>;
  if (!ag.data) return <><p>{back}</p><Loading what="the access group" /></>;
  const assigned = new Set(datasets.data?.datasets.map((d) => d.id));
  const options = all.data?.datasets.filter((d) => !assigned.has(d.id)) ?? [];

  return (
    <>
      <p>{back}</p>
      <PageHeader title={ag.data.name} intro={ag.data.description ?? undefined}>
        <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>Delete…</button>
      </PageHeader>
      <Section title="Linked IdP group" id="linked">
        <p><LinkedGroup tenantId={tenantId} ag={ag.data} /></p>
        <p className="help">Linking is by exact name. Renaming the group in the IdP, or this access group here, changes the link at once.</p>
      </Section>
      <ProvisioningOverrides path={`${base}/provisioning`} scope="access group" />
      <Section title="Datasets" id="datasets">
        {datasets.loading && !datasets.data ? <Loading what="datasets" />
          : datasets.error ? <ErrorBox onRetry={datasets.reload}>{datasets.error}</ErrorBox>
          : datasets.data!.datasets.length === 0 ? <Empty title="No datasets assigned">Members get access to the datasets you assign here.</Empty>
          : <ul className="chips">{datasets.data!.datasets.map((d) => (
            <li key={d.id}>{d.name} <button type="button" className="link" aria-label={`Unassign ${d.name}`} onClick={async () => { if (await a.run(async () => { await del(`${base}/datasets/${d.id}`); return true; })) datasets.reload(); }}>Unassign</button></li>
          ))}</ul>}
        <form className="inline-form" onSubmit={async (e) => {
          e.preventDefault();
          if (!pick) return;
          if (await a.run(() => post(`${base}/datasets`, { datasetId: pick }))) { setPick(''); datasets.reload(); }
        }}>
          <div className="field grow">
            <label htmlFor="pick-ds">Assign a dataset</label>
            <select id="pick-ds" value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="">{all.loading ? 'Loading…' : options.length ? 'Choose a dataset' : 'No other datasets (create them on the Datasets page)'}</option>
              {options.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
            </select>
          </div>
          <button type="submit" className="primary" disabled={!pick || a.busy}>Assign</button>
        </form>
      </Section>
      <Section title="Members" id="members">
        <p className="help">Members of the linked IdP group, plus users added here by hand.</p>
        <ErrorBox>{a.error}</ErrorBox>
        {members.loading && !members.data ? <Loading what="members" />
          : members.error ? <ErrorBox onRetry={members.reload}>{members.error}</ErrorBox>
          : members.data!.members.length === 0 && after.length === 0 ? <Empty title="No members yet">{ag.data.linkedGroup ? 'The linked IdP group has no members.' : 'Create an IdP group with this exact name, or add users by hand below.'}</Empty>
          : (
            <>
              <div className="table-wrap"><table data-testid="members-table">
                <thead><tr><th scope="col">User name</th><th scope="col">Status</th><th scope="col">Member through</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>{members.data!.members.map((m) => (
                  <tr key={m.id}>
                    <td><a href={href(tpath(tenantId, `/users/${m.id}`))}>{m.userName}</a></td>
                    <td><Status value={m.status} /></td>
                    <td>{m.viaIdpGroup && <Badge tone="muted">IdP group</Badge>} {m.manual && <Badge tone="info">added by hand</Badge>}</td>
                    <td className="actions">{m.manual && <button type="button" className="secondary small" onClick={async () => { if (await a.run(async () => { await del(`${base}/members/${m.id}`); return true; })) members.reload(); }}>Remove</button>}</td>
                  </tr>
                ))}</tbody>
              </table></div>
              <p className="pager">
                <button type="button" className="secondary" disabled={after.length === 0} onClick={() => setAfter(after.slice(0, -1))}>← Previous</button>
                <button type="button" className="secondary" disabled={!members.data!.next} onClick={() => setAfter([...after, members.data!.next!])}>Next →</button>
              </p>
            </>
          )}
        <form className="inline-form" onSubmit={async (e) => {
          e.preventDefault();
          const ok = await a.run(async () => {
            const found = await get<{ users: { id: string }[] }>(tenantPath(tenantId, `/users${qs({ userName: userName.trim(), limit: 1 })}`));
            const u = found.users[0];
            if (!u) throw new Error(`No user with user name “${userName.trim()}”`);
            await post(`${base}/members`, { identityId: u.id });
            return true;
          });
          if (ok) { setUserName(''); members.reload(); }
        }}>
          <div className="field grow"><label htmlFor="add-member">Add a user by hand (user name)</label><input id="add-member" value={userName} onChange={(e) => setUserName(e.target.value)} /></div>
          <button type="submit" className="secondary" disabled={!userName.trim() || a.busy}>Add member</button>
        </form>
      </Section>
      <Confirm open={confirmDelete} title={`Delete “${ag.data.name}”?`} confirmLabel="Delete access group" danger busy={a.busy} error={a.error}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={async () => { if (await a.run(async () => { await del(base); return true; })) navigate(tpath(tenantId, '/access-groups')); }}>
        <p>Its members lose access to its datasets at once. The IdP group is not touched.</p>
      </Confirm>
    </>
  );
}

