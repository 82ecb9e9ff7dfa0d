import { useCallback, useState } from 'react';
import { post, qs, tenantPath, type AccessGroup, type DirectoryGroup } from '../api';
import type { Features } from '../App';
import { href, navigate, tpath, useRoute } from '../router';
import { Badge, Empty, ErrorBox, Loading, PageHeader, Pager, SearchBox, Section, Status, useAction, useGet } from '../ui';

const LIMIT = 50;

function LinkCell({ tenantId, g, canCreate }: { tenantId: string; g: DirectoryGroup; canCreate: boolean }) {
  const a = useAction();
  if (g.linkedAccessGroup) {
    return <a href={href(tpath(tenantId, `/access-groups/${g.linkedAccessGroup.id}`))}><Badge tone="ok">Linked</Badge> {g.linkedAccessGroup.name}</a>;
  }
  return (
    <span>
      <span className="muted">No access group</span>{' '}
      {canCreate && (
        <button type="button" className="link" disabled={a.busy} onClick={async () => {
          const ag = await a.run(() => post<AccessGroup>(tenantPath(tenantId, '/access-groups'), { name: g.displayName }));
          if (ag) navigate(tpath(tenantId, `/access-groups/${ag.id}`));
        }}>Create “{g.displayName}”</button>
      )}
      {a.error && <span className="error-inline" role="alert">{a.error}</span>}
    </span>
  );
}

export function GroupsPage({ tenantId, features }: { tenantId: string; features: Features }) {
  const route = useRoute();
  const search = route.query.get('search') ?? '';
  const offset = Number(route.query.get('offset') ?? 0) || 0;
  const list = useGet<{ total: number; groups: DirectoryGroup[] }>(tenantPath(tenantId, `/scim-groups${qs({ search, offset, limit: LIMIT })}`));
  const go = useCallback((q: { search?: string; offset?: number }) => navigate(tpath(tenantId, '/groups'), { search: q.search ?? search, offset: q.offset ?? 0 }), [tenantId, search]);
  const canCreate = features.has('/admin/v1/tenants/{tenantId}/access-groups');
  return (
    <>
      <PageHeader title="Groups" intro="Groups your IdP pushed (read-only here). A group links to the access group whose name is exactly the same, letter case included; its members then get that access group's datasets." />
      <Section title="IdP groups" id="groups" actions={<SearchBox value={search} label="Search groups" placeholder="Search by name or externalId" onSearch={(q) => go({ search: q })} />}>
        {list.loading && !list.data ? <Loading what="groups" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.groups.length === 0 ? (
            search ? <Empty title={`No group matches “${search}”`} />
              : <Empty title="No groups yet">Assign groups to the idpbridge application in Entra, or push them from Okta (Push Groups tab); they appear here after the next sync.</Empty>
          ) : (
            <>
              <div className="table-wrap" aria-busy={list.loading}>
                <table data-testid="groups-table" className="stack">
                  <thead><tr><th scope="col">Name</th><th scope="col">Members</th><th scope="col">Access group</th></tr></thead>
                  <tbody>
                    {list.data!.groups.map((g) => (
                      <tr key={g.id}>
                        <td data-label="Name"><a href={href(tpath(tenantId, `/groups/${g.id}`))}>{g.displayName}</a> <Badge tone="muted">Provisioned · read-only</Badge></td>
                        <td data-label="Members">{g.memberCount.toLocaleString('en')}</td>
                        <td data-label="Access group"><LinkCell tenantId={tenantId} g={g} canCreate={canCreate} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager offset={offset} limit={LIMIT} total={list.data!.total} shown={list.data!.groups.length} what="groups" onChange={(o) => go({ offset: o })} />
            </>
          )}
      </Section>
    </>
  );
}

interface GroupMembers {
  group: DirectoryGroup;
  total: number;
  members: { id: string; userName: string; displayName: string | null; active: boolean; status: string }[];
}

export function GroupPage({ tenantId, groupId, features }: { tenantId: string; groupId: string; features: Features }) {
  const [offset, setOffset] = useState(0);
  const r = useGet<GroupMembers>(tenantPath(tenantId, `/scim-groups/${groupId}/members${qs({ offset, limit: LIMIT })}`));
  const back = <a href={href(tpath(tenantId, '/groups'))}>← All groups</a>;
  if (r.error) return <><p>{back}</p><ErrorBox onRetry={r.reload}>{r.error}</ErrorBox></>;
  if (!r.data) return <><p>{back}</p><Loading what="the group" /></>;
  const g = r.data.group;
  return (
    <>
      <p>{back}</p>
      <PageHeader title={g.displayName}><Badge tone="muted">Provisioned · read-only</Badge></PageHeader>
      <Section title="Access group link" id="link">
        <p><LinkCell tenantId={tenantId} g={g} canCreate={features.has('/admin/v1/tenants/{tenantId}/access-groups')} /></p>
        {g.externalId && <p className="help">externalId <span className="mono">{g.externalId}</span></p>}
      </Section>
      <Section title={`Members (${r.data.total.toLocaleString('en')})`} id="members">
        {r.data.members.length === 0 ? <Empty title="No members" />
          : (
            <>
              <div className="table-wrap"><table>
                <thead><tr><th scope="col">User name</th><th scope="col">Display name</th><th scope="col">Status</th></tr></thead>
                <tbody>{r.data.members.map((m) => (
                  <tr key={m.id}><td><a href={href(tpath(tenantId, `/users/${m.id}`))}>{m.userName}</a></td><td>{m.displayName ?? '—'}</td><td><Status value={m.status} /></td></tr>
                ))}</tbody>
              </table></div>
              <Pager offset={offset} limit={LIMIT} total={r.data.total} shown={r.data.members.length} what="members" onChange={setOffset} />
            </>
          )}
      </Section>
    </>
  );
}
