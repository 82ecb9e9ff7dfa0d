import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../app-deps.js';
import type { Queryable } from '../../db/types.js';
import type { IdentityLookup, IdentitySummary } from '../../access/index.js';
import { findIdentityByLookups } from '../../access/index.js';
import { loadSettings } from '../../access/observer.js';
import type { ObserverContext, ProvisioningObserver, StoredUser } from '../../directory/observer.js';
import { insertUser, selectUser, toStoredUser, updateUser, type UserRow } from '../../directory/users-store.js';
import { addMembers, insertGroup, removeMembers, toStoredGroup, touchGroup } from '../../directory/groups-store.js';
import { storableText } from '../../idp-tokens/claims.js';
import type { Connection } from '../connections.js';
import { SsoError } from '../errors.js';
import type { VerifiedAssertion } from './sp.js';

/**
 * Just-in-time provisioning from a SAML assertion (per connection, off by default), for customers
 * without SCIM: the first sign-in creates the identity (source `manual`) with the assertion's
 * attributes and groups, later sign-ins update it. Groups are directory groups, matched by name
 * (created when missing) with the user's memberships made equal to the assertion's list, so an
 * access group linked to a group by name grants access exactly as after a SCIM sync. Everything
 * goes through the directory stores and the provisioning observers (access changes, outbox
 * events) in one transaction per sign-in, and each write gets a provisioning-log row.
 * SCIM-provisioned identities are never changed by an assertion.
 */

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const DISPLAY_NAME_ATTRS = ['displayName', 'http://schemas.microsoft.com/identity/claims/displayname', 'name'];
const EMAIL_ATTRS = ['email', 'mail', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'];
/** Where Entra (Attributes & Claims → Add a group claim) and Okta (group attribute statement) put groups. */
export const DEFAULT_GROUP_ATTRS = ['http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', 'groups'];
const MAX_GROUPS = 200;

const usable = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024 && storableText(v);

/** What JIT writes, read from the verified assertion. */
export interface JitProfile {
  userName: string | undefined;
  externalId: string | null;
  displayName: string | null;
  email: string | undefined;
  /** Group names; undefined: the assertion says nothing about groups (memberships are left alone). */
  groups: string[] | undefined;
}

export function jitProfile(conn: Connection, lookups: readonly IdentityLookup[], a: VerifiedAssertion): JitProfile {
  const attrs = (a.profile.attributes ?? {}) as Record<string, unknown>;
  const values = (n: string): unknown[] => (Array.isArray(attrs[n]) ? attrs[n] as unknown[] : attrs[n] === undefined ? [] : [attrs[n]]);
  const first = (names: string[]) => names.flatMap(values).find(usable);
  const userName = lookups.find((l) => l.attribute === 'userName')?.value;
  // A configured attribute that is absent means "no groups"; the default names may simply not be sent.
  const groupAttrs = conn.jitGroupsAttribute ? [conn.jitGroupsAttribute] : DEFAULT_GROUP_ATTRS.filter((n) => attrs[n] !== undefined);
  const groups = groupAttrs.length === 0 ? undefined
    : [...new Set(groupAttrs.flatMap(values).filter(usable).map((g) => g.trim()).filter((g) => g.length > 0 && g.length <= 256))];
  if (groups && groups.length > MAX_GROUPS) throw new SsoError('ERR_IDENTITY_NOT_FOUND', `Just-in-time provisioning refused: the assertion names ${groups.length} groups (at most ${MAX_GROUPS})`);
  return {
    userName,
    externalId: lookups.find((l) => l.attribute === 'externalId')?.value ?? null,
    displayName: first(DISPLAY_NAME_ATTRS) ?? null,
    email: first(EMAIL_ATTRS) ?? (userName && /^[^@\s]+@[^@\s]+$/.test(userName) ? userName : undefined),
    groups,
  };
}

type LogEntry = Parameters<AppDeps['provisioningLog']['add']>[0];
type MemberRefs = Parameters<typeof addMembers>[3];

/** Where a JIT write came from, for its provisioning-log rows. */
export interface JitOrigin {
  path: string;
  userAgent: string | undefined;
}

const userData = (base: Record<string, unknown>, p: JitProfile, userName: string): Record<string, unknown> => {
  const data: Record<string, unknown> = { ...base, schemas: base.schemas ?? [USER_SCHEMA], userName, active: base.active ?? true };
  if (p.externalId !== null) data.externalId = p.externalId;
  if (p.displayName !== null) data.displayName = p.displayName;
  if (p.email && !Array.isArray(base.emails)) data.emails = [{ value: p.email, type: 'work', primary: true }];
  return data;
};

/** The writes a refusal of the access model (400/409 from an observer) turns into a sign-in refusal. */
function refusedWrite(err: unknown): SsoError | undefined {
  if (err instanceof SsoError) return err;
  const e = err as { status?: unknown; statusCode?: unknown; message?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : Number(e.status);
  if (Number.isInteger(status) && status >= 400 && status < 500) return new SsoError('ERR_IDENTITY_NOT_FOUND', `Just-in-time provisioning refused: ${String(e.message)}`);
  return undefined;
}

/**
 * Creates or updates the identity the assertion names (and its group memberships) in one
 * transaction; answers the identity to decide on, or undefined when there is none to create
 * (no userName in the assertion).
 */
export async function provisionJustInTime(
  deps: AppDeps, tenantId: string, conn: Connection, p: JitProfile, existing: IdentitySummary | undefined, origin: JitOrigin,
): Promise<IdentitySummary | undefined> {
  if (existing && existing.source !== 'manual') return existing;
  if (!existing && !p.userName) return undefined;
  const started = Date.now();
  const log: Omit<LogEntry, 'at' | 'duration_ms'>[] = [];
  const entry = (operation: string, resourceType: 'User' | 'Group', resourceId: string, summary: Record<string, unknown>) => log.push({
    tenant_id: tenantId, method: 'POST', path: origin.path, idp: 'saml-jit', user_agent: origin.userAgent?.slice(0, 300) ?? null,
    credential_id: `connection:${conn.id}`, operation, outcome: 'success', status: operation === 'create' ? 201 : 200,
    resource_type: resourceType, resource_id: resourceId, summary: { via: 'saml-jit', connectionId: conn.id, ...summary }, error: null,
  });
  let identityId: string;
  try {
    identityId = await deps.db.transaction(async (tx) => {
      const ctx: ObserverContext = { tenantId, settings: await loadSettings(tx, tenantId) };
      const userId = existing ? await updateFromAssertion(tx, deps.observer, ctx, existing.id, p, entry) : await createFromAssertion(tx, deps.observer, ctx, p, entry);
      if (p.groups) await syncGroups(tx, deps.observer, ctx, userId, p.groups, entry);
      return userId;
    });
  } catch (err) {
    throw refusedWrite(err) ?? err;
  }
  const at = new Date(started).toISOString();
  const duration = Date.now() - started;
  for (const e of log) deps.provisioningLog.add({ ...e, at, duration_ms: duration });
  return (await findIdentityByLookups(deps.db, tenantId, [{ attribute: 'id', value: identityId }]))?.identity;
}

type Entry = (operation: string, resourceType: 'User' | 'Group', resourceId: string, summary: Record<string, unknown>) => void;

async function createFromAssertion(tx: Queryable, observer: ProvisioningObserver, ctx: ObserverContext, p: JitProfile, entry: Entry): Promise<string> {
  const userName = p.userName!;
  const data = userData({}, p, userName);
  const row = await insertUser(tx, ctx.tenantId, randomUUID(), {
    userName, externalId: p.externalId, displayName: p.displayName, active: true, data, passwordHash: undefined, status: 'active',
  }, 'manual');
  if (!row) throw new SsoError('ERR_IDENTITY_NOT_FOUND', `Just-in-time provisioning refused: userName "${userName}" is already in use in this tenant`);
  await observer.userCreated?.(tx, ctx, toStoredUser(row), { adopted: false });
  entry('create', 'User', row.id, { userName, attributes: Object.keys(data).filter((k) => k !== 'schemas').sort() });
  return row.id;
}

async function updateFromAssertion(tx: Queryable, observer: ProvisioningObserver, ctx: ObserverContext, id: string, p: JitProfile, entry: Entry): Promise<string> {
  const before = await selectUser(tx, ctx.tenantId, id, true);
  if (!before) throw new SsoError('ERR_IDENTITY_NOT_FOUND', 'the identity was deleted during sign-in');
  const data = userData(before.data, p, before.user_name);
  if (JSON.stringify(data) === JSON.stringify(before.data)) return id;
  const after: UserRow = await updateUser(tx, ctx.tenantId, id, {
    userName: before.user_name, externalId: p.externalId ?? before.external_id, displayName: p.displayName ?? before.display_name,
    active: before.active, data, passwordHash: undefined, status: before.status,
  });
  // The access observer adopts a manual identity into SCIM when the IdP writes it *through SCIM*
  // (source manual → scim). A JIT write keeps it manual, so the observers are told the identity
  // was not a manual one awaiting adoption; everything else they see is the stored rows.
  const seenBefore: StoredUser = { ...toStoredUser(before), source: 'jit' };
  await observer.userUpdated?.(tx, ctx, seenBefore, toStoredUser(after));
  entry('replace', 'User', id, { userName: after.user_name, attributes: Object.keys(data).filter((k) => k !== 'schemas' && JSON.stringify(data[k]) !== JSON.stringify(before.data[k])).sort() });
  return id;
}

/** Makes the user's directory-group memberships equal to the assertion's group names. */
async function syncGroups(tx: Queryable, observer: ProvisioningObserver, ctx: ObserverContext, userId: string, names: string[], entry: Entry): Promise<void> {
  const t = ctx.tenantId;
  const { rows: current } = await tx.query<{ id: string; display_name: string }>(
    `SELECT g.id, g.display_name FROM scim_group_members m JOIN scim_groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
      WHERE m.tenant_id = $1 AND m.member_id = $2`, [t, userId]);
  const { rows: existing } = await tx.query<{ id: string; display_name: string }>(
    'SELECT id, display_name FROM scim_groups WHERE tenant_id = $1 AND lower(display_name) = ANY($2::text[])', [t, names.map((n) => n.toLowerCase())]);
  const byName = new Map(existing.map((g) => [g.display_name.toLowerCase(), g.id]));
  const wanted = new Set<string>();
  for (const name of names) {
    let id = byName.get(name.toLowerCase());
    if (!id) {
      const row = await insertGroup(tx, t, randomUUID(), { displayName: name, externalId: null, data: { schemas: [GROUP_SCHEMA], displayName: name } });
      if (!row) throw new SsoError('ERR_IDENTITY_NOT_FOUND', `Just-in-time provisioning refused: group "${name}" was created concurrently; sign in again`);
      await observer.groupCreated?.(tx, ctx, toStoredGroup(row));
      entry('create', 'Group', row.id, { displayName: name });
      id = row.id;
      byName.set(name.toLowerCase(), id);
    }
    wanted.add(id);
  }
  const have = new Set(current.map((g) => g.id));
  for (const groupId of wanted) {
    if (have.has(groupId)) continue;
    const { added } = await addMembers(tx, t, groupId, [{ value: userId, type: 'User' }] as MemberRefs);
    if (added.length === 0) continue;
    await touchGroup(tx, t, groupId);
    await observer.membersChanged?.(tx, ctx, groupId, added, []);
    entry('patch', 'Group', groupId, { operations: [{ op: 'add', path: 'members', memberCount: 1 }] });
  }
  for (const groupId of have) {
    if (wanted.has(groupId)) continue;
    const removed = await removeMembers(tx, t, groupId, [userId]);
    if (removed.length === 0) continue;
    await touchGroup(tx, t, groupId);
    await observer.membersChanged?.(tx, ctx, groupId, [], removed);
    entry('patch', 'Group', groupId, { operations: [{ op: 'remove', path: 'members', memberCount: 1 }] });
  }
}
