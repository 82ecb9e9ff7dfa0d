import { useEffect, useId, useState } from 'react';
import { put } from '../api';
import { ErrorBox, Loading, Section, useAction, useGet } from '../ui';

/** The API's shape (docs/access-model.md "Provisioning overrides"): null inherits. */
interface Overrides { newUserStatus: 'staged' | 'active' | null; automaticInvitation: boolean | null }

const statusChoice = (v: Overrides['newUserStatus']) => v ?? 'inherit';
const inviteChoice = (v: Overrides['automaticInvitation']) => (v === null ? 'inherit' : v ? 'send' : 'skip');

/**
 * Overrides of the tenant's provisioning defaults on an identity or an access group (seed 002: automatic
 * invitation and staged status per user or group). Both fields are always sent, so saving one never drops the other.
 */
export function ProvisioningOverrides({ path, scope }: { path: string; scope: 'identity' | 'access group' }) {
  const cur = useGet<Overrides>(path);
  const [status, setStatus] = useState('inherit');
  const [invite, setInvite] = useState('inherit');
  const [saved, setSaved] = useState(false);
  const a = useAction();
  const statusId = useId();
  const inviteId = useId();
  useEffect(() => {
    if (!cur.data) return;
    setStatus(statusChoice(cur.data.newUserStatus));
    setInvite(inviteChoice(cur.data.automaticInvitation));
  }, [cur.data]);
  const title = 'Provisioning overrides';
  if (cur.loading && !cur.data) return <Section title={title} id="provisioning-overrides"><Loading what="the provisioning overrides" /></Section>;
  if (cur.error) return <Section title={title} id="provisioning-overrides"><ErrorBox onRetry={cur.reload}>{cur.error}</ErrorBox></Section>;
  return (
    <Section title={title} id="provisioning-overrides">
      <p className="help">
        {scope === 'identity'
          ? 'Applies when your IdP provisions this identity (an identity set beats its access groups, which beat the tenant settings).'
          : 'Applies to users your IdP creates as members of the linked IdP group (when groups disagree, the cautious value wins: staged, no invitation).'}
      </p>
      <form data-testid="provisioning-overrides" onSubmit={async (e) => {
        e.preventDefault();
        setSaved(false);
        const body: Overrides = {
          newUserStatus: status === 'inherit' ? null : (status as 'staged' | 'active'),
          automaticInvitation: invite === 'inherit' ? null : invite === 'send',
        };
        if (await a.run(() => put(path, body))) { setSaved(true); cur.reload(); }
      }}>
        <div className="field">
          <label htmlFor={statusId}>New user status</label>
          <select id={statusId} value={status} onChange={(e) => { setStatus(e.target.value); setSaved(false); }}>
            <option value="inherit">Tenant default</option>
            <option value="staged">Staged (activated on first sign-in)</option>
            <option value="active">Active</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={inviteId}>Invitation e-mail</label>
          <select id={inviteId} value={invite} onChange={(e) => { setInvite(e.target.value); setSaved(false); }}>
            <option value="inherit">Tenant default</option>
            <option value="send">Send</option>
            <option value="skip">Don't send</option>
          </select>
        </div>
        <ErrorBox>{a.error}</ErrorBox>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Saving…' : 'Save overrides'}</button>
          <span role="status" aria-live="polite">{saved ? 'Overrides saved.' : ''}</span>
        </div>
      </form>
    </Section>
  );
}
