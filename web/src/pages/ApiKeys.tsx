import { useState } from 'react';
import { del, patch, qs, tenantPath } from '../api';
import { href, navigate, tpath, useRoute } from '../router';
import { Badge, Confirm, Empty, ErrorBox, Loading, PageHeader, Pager, Section, Status, useAction, useGet, when } from '../ui';

const LIMIT = 50;

interface TenantApiKey {
  id: string; identityId: string; name: string; keyHint: string; auto: boolean; enabled: boolean;
  disabledReason: 'disabled' | 'identity_suspended' | null; createdAt: string; lastUsedAt: string | null;
  owner: { id: string; userName: string; displayName: string | null; status: string };
}

function KeyState({ k }: { k: TenantApiKey }) {
  if (k.enabled) return <Status value="active" />;
  return <Badge tone="bad">{k.disabledReason === 'identity_suspended' ? 'owner suspended' : 'disabled'}</Badge>;
}

/** Every API key of the tenant in one place (seed 001: admins check keys here), revocable from the list. */
export function ApiKeysPage({ tenantId }: { tenantId: string }) {
  const route = useRoute();
  const offset = Number(route.query.get('offset') ?? 0) || 0;
  const list = useGet<{ total: number; apiKeys: TenantApiKey[] }>(tenantPath(tenantId, `/api-keys${qs({ offset, limit: LIMIT })}`));
  const [revoke, setRevoke] = useState<TenantApiKey>();
  const [done, setDone] = useState<string>();
  const a = useAction();
  const dialog = useAction();
  const keyPath = (k: TenantApiKey) => tenantPath(tenantId, `/users/${k.owner.id}/api-keys/${k.id}`);

  return (
    <>
      <PageHeader title="API keys"
        intro="Every API key of this tenant, whoever owns it: when it was created and last used, and whether it works. Revoking a key refuses it within seconds. Create keys on a user's page." />
      <Section title="All keys" id="api-keys">
        <p role="status" aria-live="polite" className="help">{done ?? ''}</p>
        <ErrorBox>{a.error}</ErrorBox>
        {list.loading && !list.data ? <Loading what="API keys" />
          : list.error ? <ErrorBox onRetry={list.reload}>{list.error}</ErrorBox>
          : list.data!.apiKeys.length === 0 ? <Empty title="No API keys yet">Keys appear here when they are created on a user's page, or for provisioned users when the tenant setting creates them.</Empty>
          : (
            <>
              <div className="table-wrap" aria-busy={list.loading}>
                <table data-testid="api-keys-table" className="stack">
                  <thead><tr>
                    <th scope="col">Owner</th><th scope="col">Name</th><th scope="col">Ends with</th><th scope="col">Created</th>
                    <th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span className="sr-only">Actions</span></th>
                  </tr></thead>
                  <tbody>{list.data!.apiKeys.map((k) => (
                    <tr key={k.id}>
                      <td data-label="Owner"><a href={href(tpath(tenantId, `/users/${k.owner.id}`))}>{k.owner.displayName ?? k.owner.userName}</a>
                        {k.owner.displayName && <><br /><span className="muted small mono">{k.owner.userName}</span></>}</td>
                      <td data-label="Name">{k.name} {k.auto && <Badge tone="muted" title="Created for a provisioned user; follows the user">auto</Badge>}</td>
                      <td data-label="Ends with" className="mono">{k.keyHint}</td>
                      <td data-label="Created" className="nowrap">{when(k.createdAt)}</td>
                      <td data-label="Last used" className="nowrap">{k.lastUsedAt ? when(k.lastUsedAt) : <span className="muted">never</span>}</td>
                      <td data-label="State"><KeyState k={k} /></td>
                      <td className="actions">
                        {!k.auto && k.disabledReason !== 'identity_suspended' && (
                          <button type="button" className="secondary small" disabled={a.busy} aria-label={`${k.enabled ? 'Disable' : 'Enable'} ${k.name} of ${k.owner.userName}`}
                            onClick={async () => {
                              setDone(undefined);
                              if (await a.run(() => patch(keyPath(k), { enabled: !k.enabled }))) { setDone(`${k.name} ${k.enabled ? 'disabled' : 'enabled'}.`); list.reload(); }
                            }}>{k.enabled ? 'Disable' : 'Enable'}</button>
                        )}
                        <button type="button" className="danger small" aria-label={`Revoke ${k.name} of ${k.owner.userName}`} onClick={() => { setDone(undefined); setRevoke(k); }}>Revoke…</button>
                      </td>
                    </tr>
                  ))}</tbody>
                </table>
              </div>
              <Pager offset={offset} limit={LIMIT} total={list.data!.total} shown={list.data!.apiKeys.length} what="keys"
                onChange={(o) => navigate(tpath(tenantId, '/api-keys'), { offset: o })} />
            </>
          )}
      </Section>
      <Confirm open={!!revoke} title="Revoke this API key?" confirmLabel="Revoke key" danger busy={dialog.busy} error={dialog.error}
        onCancel={() => { setRevoke(undefined); dialog.setError(undefined); }}
        onConfirm={async () => {
          const k = revoke!;
          if (await dialog.run(async () => { await del(keyPath(k)); return true; })) {
            setRevoke(undefined);
            setDone(`${k.name} (${k.keyHint}) of ${k.owner.userName} revoked.`);
            list.reload();
          }
        }}>
        <p>“{revoke?.name}” ({revoke?.keyHint}) of <b>{revoke?.owner.userName}</b> is deleted and refused within seconds. Anything still using it stops working.</p>
      </Confirm>
    </>
  );
}
