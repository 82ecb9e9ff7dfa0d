import { useState } from 'react';
import { useCursorList } from '../cursorList';
import { qs, tenantPath } from '../api';
import { Badge, Empty, ErrorBox, Loading, PageHeader, Section, when } from '../ui';

/** One audit entry as GET …/audit-log answers it (docs/audit.md). */
export interface AuditEntry {
  id: string;
  tenantId: string | null;
  sequence: number;
  at: string;
  actor: { kind: string; id: string | null; login: string | null };
  action: string;
  outcome: 'success' | 'refused';
  target: { type: string; id: string | null } | null;
  changes: Record<string, { before?: unknown; after?: unknown; changed?: true }>;
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

interface Filters { actor: string; action: string; targetType: string; targetId: string; outcome: string; from: string; to: string; tenant: string }
const NONE: Filters = { actor: '', action: '', targetType: '', targetId: '', outcome: '', from: '', to: '', tenant: '' };

const ACTOR_LABEL: Record<string, string> = {
  operator: 'Operator', 'console-account': 'Console account', 'setup-link': 'Set-up link', 'api-caller': 'API caller', anonymous: 'Unauthenticated',
};

const show = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function changesText(c: AuditEntry['changes']): string {
  return Object.entries(c).slice(0, 6).map(([k, v]) => {
    if ('changed' in v) return `${k}: changed`;
    return 'before' in v ? `${k}: ${show(v.before)} → ${show(v.after)}` : `${k}: ${show(v.after)}`;
  }).join(' · ');
}

/**
 * The audit trail: a tenant's (tenant admins and the operator) or, without tenantId, every entry
 * (operator only), with filters, older pages and JSON Lines / CSV exports of what the filters match.
 */
export function AuditPage({ tenantId }: { tenantId?: string }) {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);

  const params = (extra: Record<string, string | number | undefined>) => qs({
    actor: filters.actor.trim(), action: filters.action.trim(), targetType: filters.targetType.trim(), targetId: filters.targetId.trim(),
    outcome: filters.outcome, from: filters.from ? new Date(filters.from).toISOString() : '', to: filters.to ? new Date(filters.to).toISOString() : '',
    tenantId: tenantId ? undefined : filters.tenant.trim(), ...extra,
  });
  const base = tenantId ? tenantPath(tenantId, '/audit-log') : '/admin/v1/audit-log';
  const url = (cursor?: string) => `${base}${params({ limit: 50, cursor })}`;

  const { entries, next, loading, error, more, reload } = useCursorList<AuditEntry>(url, [tenantId, filters]);

  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft({ ...draft, [k]: e.target.value });
  const filtered = JSON.stringify(filters) !== JSON.stringify(NONE);

  return (
    <>
      <PageHeader
        title="Audit log"
        intro={tenantId
          ? 'Who changed what in this tenant, when and from where: every change through the console or the admin API, and refused sign-ins. Secrets are never shown, only that they changed.'
          : 'Every audit entry of every tenant, and the operator-wide ones (refused admin API calls, purges).'}
      >
        <p className="small">
          Export what the filters match: <a href={`${base}${params({ format: 'jsonl' })}`} download data-testid="audit-export-jsonl">JSON Lines</a>
          {' · '}<a href={`${base}${params({ format: 'csv' })}`} download data-testid="audit-export-csv">CSV</a>
        </p>
      </PageHeader>
      <Section title="Filters" id="audit-filters">
        <form className="filters" onSubmit={(e) => { e.preventDefault(); setFilters(draft); }}>
          {!tenantId && <div className="field"><label htmlFor="a-tenant">Tenant id (or “operator”)</label><input id="a-tenant" value={draft.tenant} onChange={set('tenant')} /></div>}
          <div className="field"><label htmlFor="a-actor">Actor (login or id)</label><input id="a-actor" value={draft.actor} onChange={set('actor')} /></div>
          <div className="field"><label htmlFor="a-action">Action (e.g. scim_token.*)</label><input id="a-action" value={draft.action} onChange={set('action')} /></div>
          <div className="field"><label htmlFor="a-ttype">Target type</label><input id="a-ttype" value={draft.targetType} onChange={set('targetType')} /></div>
          <div className="field"><label htmlFor="a-tid">Target id</label><input id="a-tid" value={draft.targetId} onChange={set('targetId')} /></div>
          <div className="field"><label htmlFor="a-outcome">Outcome</label>
            <select id="a-outcome" value={draft.outcome} onChange={set('outcome')}><option value="">Any</option><option value="success">Done</option><option value="refused">Refused</option></select></div>
          <div className="field"><label htmlFor="a-from">From</label><input id="a-from" type="datetime-local" value={draft.from} onChange={set('from')} /></div>
          <div className="field"><label htmlFor="a-to">To</label><input id="a-to" type="datetime-local" value={draft.to} onChange={set('to')} /></div>
          <div className="form-actions">
            <button type="submit" className="primary">Apply filters</button>
            {filtered && <button type="button" className="secondary" onClick={() => { setDraft(NONE); setFilters(NONE); }}>Clear</button>}
            <button type="button" className="secondary" onClick={reload}>Refresh</button>
          </div>
        </form>
      </Section>
      <Section title="Entries" id="audit-entries">
        {error ? <ErrorBox onRetry={reload}>{error}</ErrorBox>
          : loading && entries.length === 0 ? <Loading what="the audit log" />
          : entries.length === 0 ? (filtered ? <Empty title="No entry matches these filters" /> : <Empty title="No audit entries yet">Changes made in the console or through the admin API show up here.</Empty>)
          : (
            <>
              <div className="table-wrap" aria-busy={loading}><table data-testid="audit-table" className="stack">
                <thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Changes</th><th scope="col" className="hide-narrow">From</th></tr></thead>
                <tbody>{entries.map((e) => (
                  <tr key={e.id}>
                    <td data-label="Time" className="small nowrap">{when(e.at)}</td>
                    <td data-label="Action"><span className="mono small">{e.action}</span>{e.outcome === 'refused' && <> <Badge tone="bad">refused</Badge></>}
                      {!tenantId && <><br /><span className="muted small">{e.tenantId ?? 'operator-wide'}</span></>}</td>
                    <td data-label="Actor" className="break small">{ACTOR_LABEL[e.actor.kind] ?? e.actor.kind}{e.actor.login ? `: ${e.actor.login}` : ''}</td>
                    <td data-label="Target" className="break small">{e.target ? `${e.target.type}${e.target.id ? ` ${e.target.id}` : ''}` : '—'}</td>
                    <td data-label="Changes" className="break small">{changesText(e.changes) || '—'}</td>
                    <td data-label="From" className="hide-narrow break small">{e.clientIp ?? '—'}<br /><span className="muted">{e.userAgent ?? ''}</span></td>
                  </tr>
                ))}</tbody>
              </table></div>
              {next && <p className="pager"><button type="button" className="secondary" onClick={more} disabled={loading}>{loading ? 'Loading…' : 'Load older entries'}</button></p>}
            </>
          )}
      </Section>
    </>
  );
}
