import { useState } from 'react';
import { useCursorList } from '../cursorList';
import { qs, tenantPath, type LogEntry } from '../api';
import { Empty, ErrorBox, Loading, PageHeader, Section, Status, when } from '../ui';

interface Filters { outcome: string; resourceType: string; method: string; idp: string; resourceId: string; from: string; to: string }
const NONE: Filters = { outcome: '', resourceType: '', method: '', idp: '', resourceId: '', from: '', to: '' };

function message(e: LogEntry): string {
  const err = e.error as { detail?: string; message?: string; scimType?: string } | null;
  if (err) return [err.scimType, err.detail ?? err.message].filter(Boolean).join(': ');
  const s = e.summary as Record<string, unknown> | null;
  if (!s) return '';
  return Object.entries(s).slice(0, 4).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.length : typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · ');
}

export function LogPage({ tenantId }: { tenantId: string }) {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);

  const url = (cursor?: string) => tenantPath(tenantId, `/provisioning-log${qs({
    outcome: filters.outcome, resourceType: filters.resourceType, method: filters.method, idp: filters.idp, resourceId: filters.resourceId.trim(),
    from: filters.from ? new Date(filters.from).toISOString() : '', to: filters.to ? new Date(filters.to).toISOString() : '', limit: 50, cursor,
  })}`);

  const { entries, next, loading, error, more, reload } = useCursorList<LogEntry>(url, [tenantId, filters]);

  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft({ ...draft, [k]: e.target.value });
  const filtered = JSON.stringify(filters) !== JSON.stringify(NONE);

  return (
    <>
      <PageHeader title="Provisioning log" intro="Every SCIM request your IdP made, newest first: what it asked, what idpbridge answered, and why a request failed." />
      <Section title="Filters" id="filters">
        <form className="filters" onSubmit={(e) => { e.preventDefault(); setFilters(draft); }}>
          <div className="field"><label htmlFor="f-outcome">Outcome</label>
            <select id="f-outcome" value={draft.outcome} onChange={set('outcome')}><option value="">Any</option><option value="success">Success</option><option value="failure">Refused (4xx)</option><option value="error">Server error (5xx)</option></select></div>
          <div className="field"><label htmlFor="f-type">Resource</label>
            <select id="f-type" value={draft.resourceType} onChange={set('resourceType')}><option value="">Any</option><option>User</option><option>Group</option><option>Bulk</option><option>Discovery</option></select></div>
          <div className="field"><label htmlFor="f-method">Method</label>
            <select id="f-method" value={draft.method} onChange={set('method')}><option value="">Any</option><option>GET</option><option>POST</option><option>PUT</option><option>PATCH</option><option>DELETE</option></select></div>
          <div className="field"><label htmlFor="f-idp">IdP</label>
            <select id="f-idp" value={draft.idp} onChange={set('idp')}><option value="">Any</option><option value="entra">Entra ID</option><option value="okta">Okta</option><option value="onelogin">OneLogin</option><option value="jumpcloud">JumpCloud</option><option value="ping">Ping</option><option value="google">Google</option><option value="other">Other</option></select></div>
          <div className="field"><label htmlFor="f-rid">Resource id</label><input id="f-rid" value={draft.resourceId} onChange={set('resourceId')} /></div>
          <div className="field"><label htmlFor="f-from">From</label><input id="f-from" type="datetime-local" value={draft.from} onChange={set('from')} /></div>
          <div className="field"><label htmlFor="f-to">To</label><input id="f-to" type="datetime-local" value={draft.to} onChange={set('to')} /></div>
          <div className="form-actions">
            <button type="submit" className="primary">Apply filters</button>
            {filtered && <button type="button" className="secondary" onClick={() => { setDraft(NONE); setFilters(NONE); }}>Clear</button>}
            <button type="button" className="secondary" onClick={reload}>Refresh</button>
          </div>
        </form>
      </Section>
      <Section title="Requests" id="requests">
        {error ? <ErrorBox onRetry={reload}>{error}</ErrorBox>
          : loading && entries.length === 0 ? <Loading what="the provisioning log" />
          : entries.length === 0 ? (filtered ? <Empty title="No request matches these filters" /> : <Empty title="No SCIM requests yet">When your IdP tests the connection or provisions users, each request shows up here.</Empty>)
          : (
            <>
              <div className="table-wrap" aria-busy={loading}><table data-testid="log-table" className="stack">
                <thead><tr><th scope="col">Time</th><th scope="col">Request</th><th scope="col">Outcome</th><th scope="col" className="hide-narrow">IdP</th><th scope="col">Details</th></tr></thead>
                <tbody>{entries.map((e) => (
                  <tr key={e.id}>
                    <td data-label="Time" className="small nowrap">{when(e.at)}</td>
                    <td data-label="Request" className="break"><span className="mono small"><b>{e.method}</b> {e.path}</span><br /><span className="muted small">{e.operation}</span></td>
                    <td data-label="Outcome"><Status value={e.outcome} /> <span className="small">{e.status}</span></td>
                    <td data-label="IdP" className="hide-narrow">{e.idp}</td>
                    <td data-label="Details" className="break small">{message(e) || '—'}</td>
                  </tr>
                ))}</tbody>
              </table></div>
              {next && <p className="pager"><button type="button" className="secondary" onClick={more} disabled={loading}>{loading ? 'Loading…' : 'Load older requests'}</button></p>}
            </>
          )}
      </Section>
    </>
  );
}
