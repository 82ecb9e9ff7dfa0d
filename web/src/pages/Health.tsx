import { useState } from 'react';
import { qs, tenantPath } from '../api';
import { href, tpath } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, Section, Status, useGet, when } from '../ui';

interface Counts { requests: number; failures: number; errors: number }
interface Bucket extends Counts { at: string }
interface Cause { status: number; code: string | null; scimType: string | null; count: number; lastAt: string; fix: string; example?: string | null; tenants?: number }
interface IdpLast {
  idp: string; lastAt: string; lastUserAgent: string | null; lastMethod: string; lastOperation: string; lastResourceType: string | null; lastStatus: number;
  lastOutcome: string; requests: number; failures: number;
}
interface WindowView { from: string; to: string; bucketSeconds: number; totals: Counts; buckets: Bucket[]; causes: Cause[] }
interface TenantHealth extends WindowView { idps: IdpLast[] }
interface TenantRow extends Counts {
  tenantId: string; name: string; lastAt: string | null; lastIdp: string | null; lastStatus: number | null; lastOutcome: string | null;
}
interface OperatorHealth extends WindowView { tenants: TenantRow[]; tenantCount: number }

/** The provisioning log's `idp` (from the User-Agent) in words. */
const IDP_LABEL: Record<string, string> = {
  entra: 'Microsoft Entra ID', okta: 'Okta', onelogin: 'OneLogin', jumpcloud: 'JumpCloud', ping: 'Ping Identity', google: 'Google', other: 'Other client',
};
const idpLabel = (idp: string | null) => (idp ? IDP_LABEL[idp] ?? idp : '—');
const WINDOWS = [{ hours: 24, label: 'Last 24 hours' }, { hours: 168, label: 'Last 7 days' }, { hours: 720, label: 'Last 30 days' }];
const fmt = (n: number) => n.toLocaleString('en');

function bucketLabel(iso: string, bucketSeconds: number): string {
  const d = new Date(iso);
  return bucketSeconds >= 86_400 ? d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })
    : bucketSeconds >= 3 * 3600 ? d.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

/**
 * Requests and failures per bucket as stacked bars: successes in blue, refusals (4xx) in amber,
 * server errors (5xx) in red. The same numbers are in a table for screen readers and for copying.
 */
export function HealthChart({ buckets, bucketSeconds, what }: { buckets: Bucket[]; bucketSeconds: number; what: string }) {
  const W = 720, H = 180, left = 40, bottom = 24, top = 8;
  const max = Math.max(1, ...buckets.map((b) => b.requests));
  const scale = (n: number) => (n / max) * (H - top - bottom);
  const bw = (W - left) / Math.max(1, buckets.length);
  const total = buckets.reduce((t, b) => ({ r: t.r + b.requests, f: t.f + b.failures + b.errors }), { r: 0, f: 0 });
  const ticks = [0, Math.round(max / 2), max].filter((v, i, a) => a.indexOf(v) === i);
  const labelEvery = Math.ceil(buckets.length / 6);
  return (
    <figure className="chart" data-testid="health-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${what}: ${fmt(total.r)} requests, ${fmt(total.f)} failed, in ${buckets.length} intervals`}>
        {ticks.map((v) => {
          const y = H - bottom - scale(v);
          return <g key={v}><line x1={left} x2={W} y1={y} y2={y} className="chart-grid" /><text x={left - 6} y={y + 4} textAnchor="end" className="chart-axis">{v}</text></g>;
        })}
        {buckets.map((b, i) => {
          const x = left + i * bw + 1;
          const ok = b.requests - b.failures - b.errors;
          const hOk = scale(ok), hF = scale(b.failures), hE = scale(b.errors);
          const base = H - bottom;
          return (
            <g key={b.at} data-bucket={b.at}>
              <title>{`${bucketLabel(b.at, bucketSeconds)}: ${b.requests} requests, ${b.failures} refused, ${b.errors} server errors`}</title>
              {hOk > 0 && <rect x={x} width={Math.max(1, bw - 2)} y={base - hOk} height={hOk} className="bar-ok" />}
              {hF > 0 && <rect x={x} width={Math.max(1, bw - 2)} y={base - hOk - hF} height={hF} className="bar-fail" />}
              {hE > 0 && <rect x={x} width={Math.max(1, bw - 2)} y={base - hOk - hF - hE} height={hE} className="bar-error" />}
              {i % labelEvery === 0 && <text x={x} y={H - 6} className="chart-axis">{bucketLabel(b.at, bucketSeconds)}</text>}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        <span><i className="swatch bar-ok" aria-hidden="true" /> Succeeded</span>
        <span><i className="swatch bar-fail" aria-hidden="true" /> Refused (4xx)</span>
        <span><i className="swatch bar-error" aria-hidden="true" /> Server error (5xx)</span>
      </figcaption>
      <details className="history">
        <summary>Show the numbers</summary>
        <div className="table-wrap"><table className="small">
          <thead><tr><th scope="col">From</th><th scope="col">Requests</th><th scope="col">Refused</th><th scope="col">Server errors</th></tr></thead>
          <tbody>{buckets.filter((b) => b.requests > 0).map((b) => (
            <tr key={b.at}><td>{bucketLabel(b.at, bucketSeconds)}</td><td>{b.requests}</td><td>{b.failures}</td><td>{b.errors}</td></tr>
          ))}</tbody>
        </table></div>
      </details>
    </figure>
  );
}

function Totals({ totals }: { totals: Counts }) {
  const failed = totals.failures + totals.errors;
  return (
    <dl className="stats" data-testid="health-totals">
      <div><dt>Requests</dt><dd>{fmt(totals.requests)}</dd></div>
      <div><dt>Refused (4xx)</dt><dd className={totals.failures ? 'warn-text' : undefined}>{fmt(totals.failures)}</dd></div>
      <div><dt>Server errors (5xx)</dt><dd className={totals.errors ? 'bad-text' : undefined}>{fmt(totals.errors)}</dd></div>
      <div><dt>Success rate</dt><dd>{totals.requests ? `${Math.round(((totals.requests - failed) / totals.requests) * 1000) / 10}%` : '—'}</dd></div>
    </dl>
  );
}

function Causes({ causes, operator, tenantId }: { causes: Cause[]; operator?: boolean; tenantId?: string }) {
  if (causes.length === 0) return <p className="ok-text" data-testid="health-causes">No failures in this period.</p>;
  return (
    <ul className="causes" data-testid="health-causes">
      {causes.map((c) => (
        <li key={`${c.status}-${c.code}-${c.scimType}`} className="cause">
          <p><b>{c.count}×</b> <span className="mono">{c.status}{c.scimType ? ` ${c.scimType}` : ''}</span>{c.code && <span className="muted small"> ({c.code})</span>}
            {' · '}last {when(c.lastAt)}{operator && c.tenants !== undefined && <> · {c.tenants} tenant{c.tenants === 1 ? '' : 's'}</>}</p>
          {c.example && <p className="small break">“{c.example}”</p>}
          <p className="small"><b>Fix:</b> {c.fix}</p>
          {tenantId && <p className="small"><a href={href(tpath(tenantId, '/log'))}>See these requests in the provisioning log</a></p>}
        </li>
      ))}
    </ul>
  );
}

function WindowPicker({ hours, onChange }: { hours: number; onChange: (h: number) => void }) {
  return (
    <div className="field inline">
      <label htmlFor="health-window">Period</label>
      <select id="health-window" value={hours} onChange={(e) => onChange(Number(e.target.value))}>
        {WINDOWS.map((w) => <option key={w.hours} value={w.hours}>{w.label}</option>)}
      </select>
    </div>
  );
}

/** A tenant's provisioning health: is the IdP talking to idpbridge, and what fails and how to fix it. */
export function HealthPage({ tenantId }: { tenantId: string }) {
  const [hours, setHours] = useState(24);
  const h = useGet<TenantHealth>(tenantPath(tenantId, `/provisioning-health${qs({ hours })}`));
  const period = WINDOWS.find((w) => w.hours === hours)!.label.toLowerCase();
  return (
    <>
      <PageHeader title="Provisioning health" intro="At a glance: when each IdP last reached idpbridge, how many requests failed and why, with the fix.">
        <WindowPicker hours={hours} onChange={setHours} />
      </PageHeader>
      {h.loading && !h.data ? <Loading what="provisioning health" />
        : h.error ? <ErrorBox onRetry={h.reload}>{h.error}</ErrorBox>
        : (
          <>
            <Section title="Identity providers" id="health-idps" actions={<button type="button" className="secondary small" onClick={h.reload}>Refresh</button>}>
              {h.data!.idps.length === 0
                ? <Empty title="No SCIM request yet">Once your IdP tests the connection or provisions users, its last request shows here (IdP integration page: the SCIM URL and secret token).</Empty>
                : (
                  <div className="table-wrap"><table data-testid="health-idps" className="stack">
                    <thead><tr><th scope="col">IdP</th><th scope="col">Last request</th><th scope="col">Answer</th><th scope="col">Requests {period}</th><th scope="col">Failed</th></tr></thead>
                    <tbody>{h.data!.idps.map((i) => (
                      <tr key={i.idp}>
                        <td data-label="IdP"><b>{idpLabel(i.idp)}</b>{i.lastUserAgent && <><br /><span className="muted small break">{i.lastUserAgent}</span></>}</td>
                        <td data-label="Last request"><span className="nowrap">{when(i.lastAt)}</span><br /><span className="small">{i.lastOperation}{i.lastResourceType ? ` ${i.lastResourceType}` : ''} <span className="mono">({i.lastMethod})</span></span></td>
                        <td data-label="Answer"><Status value={i.lastOutcome} /> <span className="small">{i.lastStatus}</span></td>
                        <td data-label="Requests">{fmt(i.requests)}</td>
                        <td data-label="Failed">{fmt(i.failures)}</td>
                      </tr>
                    ))}</tbody>
                  </table></div>
                )}
            </Section>
            <Section title={`Requests and failures, ${period}`} id="health-chart">
              <Totals totals={h.data!.totals} />
              <HealthChart buckets={h.data!.buckets} bucketSeconds={h.data!.bucketSeconds} what={`SCIM requests ${period}`} />
            </Section>
            <Section title="Failures by cause" id="health-causes">
              <Causes causes={h.data!.causes} tenantId={tenantId} />
            </Section>
          </>
        )}
    </>
  );
}

/** The operator's view across tenants: which tenants fail, which have never connected, and the common causes. */
export function OperatorHealthPage() {
  const [hours, setHours] = useState(24);
  const h = useGet<OperatorHealth>(`/admin/v1/provisioning-health${qs({ hours })}`);
  const period = WINDOWS.find((w) => w.hours === hours)!.label.toLowerCase();
  return (
    <>
      <p><a href={href('/tenants')}>← Tenants</a></p>
      <PageHeader title="Provisioning health" intro="All tenants at a glance: requests and failures over time, the most common causes with their fix, and each tenant's last request.">
        <WindowPicker hours={hours} onChange={setHours} />
      </PageHeader>
      {h.loading && !h.data ? <Loading what="provisioning health" />
        : h.error ? <ErrorBox onRetry={h.reload}>{h.error}</ErrorBox>
        : (
          <>
            <Section title={`Requests and failures, ${period}`} id="op-health-chart" actions={<button type="button" className="secondary small" onClick={h.reload}>Refresh</button>}>
              <Totals totals={h.data!.totals} />
              <HealthChart buckets={h.data!.buckets} bucketSeconds={h.data!.bucketSeconds} what={`SCIM requests of all tenants ${period}`} />
            </Section>
            <Section title="Tenants" id="op-health-tenants">
              <p className="help">Most failures first{h.data!.tenantCount > h.data!.tenants.length ? ` (${h.data!.tenants.length} of ${fmt(h.data!.tenantCount)} tenants)` : ''}.</p>
              <div className="table-wrap"><table data-testid="health-tenants" className="stack">
                <thead><tr><th scope="col">Tenant</th><th scope="col">Last request</th><th scope="col">Requests</th><th scope="col">Refused</th><th scope="col">Server errors</th></tr></thead>
                <tbody>{h.data!.tenants.map((t) => (
                  <tr key={t.tenantId}>
                    <td data-label="Tenant"><a href={href(tpath(t.tenantId, '/health'))}>{t.name}</a></td>
                    <td data-label="Last request">{t.lastAt
                      ? <><span className="nowrap">{when(t.lastAt)}</span> · {idpLabel(t.lastIdp)} · <Status value={t.lastOutcome ?? 'unknown'} /> <span className="small">{t.lastStatus}</span></>
                      : <span className="muted">never connected</span>}</td>
                    <td data-label="Requests">{fmt(t.requests)}</td>
                    <td data-label="Refused">{fmt(t.failures)}</td>
                    <td data-label="Server errors">{fmt(t.errors)}</td>
                  </tr>
                ))}</tbody>
              </table></div>
            </Section>
            <Section title="Failures by cause, all tenants" id="op-health-causes">
              <Causes causes={h.data!.causes} operator />
            </Section>
          </>
        )}
    </>
  );
}
