import { useEffect, useState } from 'react';
import { put, tenantPath } from '../api';
import { ErrorBox, Loading, PageHeader, Section, useAction, useGet } from '../ui';

interface Settings {
  newUserStatus: 'staged' | 'active';
  automaticInvitation: boolean;
  apiKeysForProvisionedUsers: boolean;
  userTypeAllowList: string[];
  grantsAttribute: string;
  nestedGroupsGrant: boolean;
  extensionAttributes: unknown[];
  logRetentionDays: number;
}

export function SettingsPage({ tenantId }: { tenantId: string }) {
  const path = tenantPath(tenantId, '/settings');
  const loaded = useGet<Settings>(path);
  const [s, setS] = useState<Settings>();
  const [allow, setAllow] = useState('');
  const [ext, setExt] = useState('');
  const [extError, setExtError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const save = useAction();

  useEffect(() => {
    if (!loaded.data) return;
    setS(loaded.data);
    setAllow(loaded.data.userTypeAllowList.join(', '));
    setExt(JSON.stringify(loaded.data.extensionAttributes, null, 2));
  }, [loaded.data]);

  if (loaded.error) return <><PageHeader title="Provisioning settings" /><ErrorBox onRetry={loaded.reload}>{loaded.error}</ErrorBox></>;
  if (!s) return <><PageHeader title="Provisioning settings" /><Loading what="settings" /></>;

  const change = (patch: Partial<Settings>) => { setSaved(false); setS({ ...s, ...patch }); };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    let extensionAttributes: unknown[];
    try {
      const parsed: unknown = JSON.parse(ext || '[]');
      if (!Array.isArray(parsed)) throw new Error('must be a JSON array');
      extensionAttributes = parsed;
      setExtError(undefined);
    } catch (err) {
      setExtError(`Extension attributes are not valid JSON: ${(err as Error).message}`);
      return;
    }
    const body = {
      newUserStatus: s.newUserStatus,
      automaticInvitation: s.automaticInvitation,
      apiKeysForProvisionedUsers: s.apiKeysForProvisionedUsers,
      nestedGroupsGrant: s.nestedGroupsGrant,
      userTypeAllowList: allow.split(',').map((x) => x.trim()).filter(Boolean),
      grantsAttribute: s.grantsAttribute.trim(),
      logRetentionDays: s.logRetentionDays,
      extensionAttributes,
    };
    const r = await save.run(() => put<Settings>(path, body));
    if (r) { setSaved(true); loaded.reload(); }
  };

  return (
    <>
      <PageHeader title="Provisioning settings" intro="How idpbridge treats users and groups your IdP provisions. Changes apply to the next SCIM request." />
      <form onSubmit={submit} aria-busy={save.busy}>
        <Section title="New users" id="new-users">
          <fieldset>
            <legend>Status of users created by the IdP</legend>
            <label className="radio"><input type="radio" name="status" checked={s.newUserStatus === 'active'} onChange={() => change({ newUserStatus: 'active' })} /> Active: they can use the product at once</label>
            <label className="radio"><input type="radio" name="status" checked={s.newUserStatus === 'staged'} onChange={() => change({ newUserStatus: 'staged' })} /> Staged: an administrator activates each one</label>
          </fieldset>
          <label className="check-row"><input type="checkbox" checked={s.automaticInvitation} onChange={(e) => change({ automaticInvitation: e.target.checked })} />
            <span><b>Automatic invitation</b><br /><span className="help">E-mail an activation link to each provisioned user. Leave off to decide yourself when users may activate.</span></span></label>
          <label className="check-row"><input type="checkbox" checked={s.apiKeysForProvisionedUsers} onChange={(e) => change({ apiKeysForProvisionedUsers: e.target.checked })} />
            <span><b>API keys for provisioned users</b><br /><span className="help">Create an API key for each user; it is renamed, disabled and deleted with the user.</span></span></label>
          <div className="field">
            <label htmlFor="allow">Allowed userType values</label>
            <input id="allow" value={allow} onChange={(e) => { setSaved(false); setAllow(e.target.value); }} placeholder="Employee, Contractor" aria-describedby="allow-help" />
            <p className="help" id="allow-help">Comma-separated. Empty: any userType is accepted.</p>
          </div>
        </Section>
        <Section title="Groups and access" id="groups">
          <label className="check-row"><input type="checkbox" checked={s.nestedGroupsGrant} onChange={(e) => change({ nestedGroupsGrant: e.target.checked })} />
            <span><b>Nested groups grant access</b><br /><span className="help">Members of a group inside a linked group also get its access. Off: direct members only.</span></span></label>
          <div className="field">
            <label htmlFor="grants">Direct-grants attribute</label>
            <input id="grants" className="mono" value={s.grantsAttribute} onChange={(e) => change({ grantsAttribute: e.target.value })} aria-describedby="grants-help" />
            <p className="help" id="grants-help">A multi-valued SCIM extension attribute whose values (dataset ids or externalIds) grant datasets to the user directly.</p>
          </div>
        </Section>
        <Section title="Extension attributes and log" id="ext">
          <div className="field">
            <label htmlFor="ext">Tenant-defined extension attributes (JSON)</label>
            <textarea id="ext" className="mono" rows={6} value={ext} onChange={(e) => { setSaved(false); setExt(e.target.value); }} spellCheck={false} aria-describedby="ext-help" />
            <p className="help" id="ext-help">{'A list like [{"schema": "urn:ietf:params:scim:schemas:extension:2.0:Acme", "name": "costCenter", "type": "string"}].'}</p>
          </div>
          <div className="field narrow">
            <label htmlFor="retention">Keep the provisioning log for (days)</label>
            <input id="retention" type="number" min={1} max={3650} value={s.logRetentionDays} onChange={(e) => change({ logRetentionDays: Number(e.target.value) })} />
          </div>
        </Section>
        <ErrorBox>{extError ?? save.error}</ErrorBox>
        <div className="form-actions sticky">
          <button type="submit" className="primary" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save settings'}</button>
          {saved && <span role="status" className="ok-text">Settings saved.</span>}
        </div>
      </form>
    </>
  );
}
