import { useState } from 'react';
import { del, patch, post, qs, tenantPath, type Delivery, type Webhook } from '../api';
import { href, tpath } from '../router';
import { Badge, Confirm, Empty, ErrorBox, Loading, PageHeader, SecretOnce, Section, Status, useAction, useGet, when } from '../ui';

const EVENT_GROUPS = ['user.*', 'identity.*', 'group.*', 'access.*'];

export function WebhooksPage({ tenantId }: { tenantId: string }) {
  const list = useGet<{ webhooks: Webhook[] }>(tenantPath(tenantId, '/webhooks'));
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [secret, setSecret] = useState<string>();
  const a = useAction();
  const [toDelete, setToDelete] = useState<Webhook>();
  return (
    <>
      <PageHeader title="Webhooks" intro="idpbridge POSTs signed events (users, groups, access changes) to your URLs, retrying with back-off; failed deliveries can be sent again." />
      <Section title="Add a webhook" id="create-wh">
        {secret && <SecretOnce title="Signing secret" secret={secret} onDone={() => setSecret(undefined)}><p>Verify each delivery's signature with it.</p></SecretOnce>}
        <form className="grid-form" onSubmit={async (e) => {
          e.preventDefault();
          const body: Record<string, unknown> = { url: url.trim() };
          if (events.length) body.events = events;
          if (description.trim()) body.description = description.trim();
          const w = await a.run(() => post<Webhook>(tenantPath(tenantId, '/webhooks'), body));
          if (w) { setSecret(w.secret); setUrl(''); setDescription(''); setEvents([]); list.reload(); }
        }}>
          <div className="field full"><label htmlFor="wh-url">URL</label><input id="wh-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://product.example.com/hooks/idpbridge" /></div>
          <div className="field full"><label htmlFor="wh-desc">Description</label><input id="wh-desc" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} /></div>
          <fieldset className="full">
            <legend>Events <span className="muted">(none checked = all events)</span></legend>
            {EVENT_GROUPS.map((ev) => (
              <label key={ev} className="check-inline"><input type="checkbox" checked={events.includes(ev)} onChange={(e) => setEvents(e.target.checked ? [...events, ev] : events.filter((x) => x !== ev))} /> <span className="mono">{ev}</span></label>
            ))}
          </fieldset>
          <ErrorBox>{a.error}</ErrorBox>
          <div className="form-actions full"><button type="submit" className="primary" disabled={a.busy || !url.trim()}>{a.busy ? 'Adding…' : 'Add webhook'}</button></div>
        </form>
      </Section>
      <Section title="Webhooks" id="whs">
        {list.loading && !list.data ? <Loading what="webhooks" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.webhooks.length === 0 ? <Empty title="No webhooks yet">Add one to be told when users, groups or access change.</Empty>
          : (
            <div className="table-wrap"><table>
              <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Queue</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>{list.data!.webhooks.map((w) => (
                <tr key={w.id}>
                  <td className="break"><a href={href(tpath(tenantId, `/webhooks/${w.id}`))}>{w.url}</a>{w.description && <><br /><span className="muted">{w.description}</span></>}</td>
                  <td className="mono small">{w.events.length ? w.events.join(', ') : 'all'}</td>
                  <td>{w.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="muted">disabled</Badge>}{w.blockedUntil && <> <Badge tone="warn" title={`Retrying after ${when(w.blockedUntil)}`}>backing off</Badge></>}</td>
                  <td>{w.pending} pending{w.dead > 0 && <>, <Badge tone="bad">{w.dead} failed</Badge></>}</td>
                  <td className="actions">
                    <button type="button" className="secondary small" onClick={async () => { if (await a.run(() => patch(tenantPath(tenantId, `/webhooks/${w.id}`), { enabled: !w.enabled }))) list.reload(); }}>{w.enabled ? 'Disable' : 'Enable'}</button>
                    <button type="button" className="danger small" onClick={() => setToDelete(w)}>Delete…</button>
                  </td>
                </tr>
              ))}</tbody>
            </table></div>
          )}
      </Section>
      <Confirm open={!!toDelete} title="Delete this webhook?" confirmLabel="Delete webhook" danger busy={a.busy} error={a.error}
        onCancel={() => setToDelete(undefined)}
        onConfirm={async () => { if (await a.run(async () => { await del(tenantPath(tenantId, `/webhooks/${toDelete!.id}`)); return true; })) { setToDelete(undefined); list.reload(); } }}>
        <p className="break">{toDelete?.url} gets no more events; its delivery history is deleted.</p>
      </Confirm>
    </>
  );
}

export function WebhookPage({ tenantId, webhookId }: { tenantId: string; webhookId: string }) {
  const base = tenantPath(tenantId, `/webhooks/${webhookId}`);
  const w = useGet<Webhook>(base);
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const d = useGet<{ deliveries: Delivery[]; nextCursor: string | null }>(`${base}/deliveries${qs({ status, limit: 50, cursor: cursors[cursors.length - 1] })}`);
  const a = useAction();
  const [done, setDone] = useState<string>();
  const back = <a href={href(tpath(tenantId, '/webhooks'))}>← All webhooks</a>;
  if (w.error) return <><p>{back}</p><ErrorBox onRetry={w.reload}>{w.error}</ErrorBox></>;
  if (!w.data) return <><p>{back}</p><Loading what="the webhook" /></>;
  return (
    <>
      <p>{back}</p>
      <PageHeader title="Webhook deliveries" intro={w.data.url}>
        {w.data.dead > 0 && <button type="button" className="primary" disabled={a.busy} onClick={async () => {
          const r = await a.run(() => post<{ requeued: number }>(`${base}/dead-letters/redeliver`));
          if (r) { setDone(`${r.requeued} failed deliveries queued again.`); d.reload(); w.reload(); }
        }}>Redeliver all {w.data.dead} failed</button>}
      </PageHeader>
      {done && <p className="notice" role="status">{done}</p>}
      <ErrorBox>{a.error}</ErrorBox>
      <Section title="Deliveries" id="deliveries" actions={
        <div className="field inline"><label htmlFor="dl-status">Status</label>
          <select id="dl-status" value={status} onChange={(e) => { setStatus(e.target.value); setCursors([]); }}>
            <option value="">All</option><option value="pending">Pending</option><option value="delivered">Delivered</option><option value="dead">Failed (dead-lettered)</option>
          </select></div>}>
        {d.loading && !d.data ? <Loading what="deliveries" />
          : d.error ? <ErrorBox onRetry={d.reload}>{d.error}</ErrorBox>
          : d.data!.deliveries.length === 0 ? <Empty title={status ? `No ${status} deliveries` : 'No deliveries yet'}>Events are delivered as users and groups change.</Empty>
          : (
            <>
              <div className="table-wrap"><table>
                <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">When</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>{d.data!.deliveries.map((x) => (
                  <tr key={`${x.eventId}`}>
                    <td><span className="mono small">{x.eventType}</span><br /><span className="muted small">#{x.sequence}</span></td>
                    <td><Status value={x.state === 'dead' ? 'dead' : x.state} /></td>
                    <td>{x.attempts}</td>
                    <td className="break small">{x.lastStatus ? `HTTP ${x.lastStatus}` : ''}{x.lastError ? ` ${x.lastError}` : ''}{!x.lastStatus && !x.lastError ? '—' : ''}</td>
                    <td className="small">{when(x.deliveredAt ?? x.deadAt ?? x.lastAttemptAt ?? x.createdAt)}{x.state === 'pending' && x.nextAttemptAt && <><br />next {when(x.nextAttemptAt)}</>}</td>
                    <td className="actions">{x.state !== 'pending' && <button type="button" className="secondary small" disabled={a.busy} onClick={async () => {
                      if (await a.run(() => post(`${base}/deliveries/${x.eventId}/redeliver`))) { setDone(`Event #${x.sequence} queued again.`); d.reload(); }
                    }}>Redeliver</button>}</td>
                  </tr>
                ))}</tbody>
              </table></div>
              <p className="pager">
                <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>← Newer</button>
                <button type="button" className="secondary" disabled={!d.data!.nextCursor} onClick={() => setCursors([...cursors, d.data!.nextCursor!])}>Older →</button>
              </p>
            </>
          )}
      </Section>
    </>
  );
}
