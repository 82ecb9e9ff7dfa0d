import { randomUUID } from 'node:crypto';
import type { ScimContext } from './context.js';
import { normalizeResource } from '../schema/validate.js';
import { applyPatch } from '../patch/index.js';
import { listPage, type ListedPage } from './list-page.js';
import { NotFoundError, UniquenessError } from '../errors.js';
import { checkIfMatch } from './etag.js';
import { extractPassword } from './password.js';
import {
  USER_COLUMNS, GROUP_IDS, selectUserWithGroupIds, deleteUser as deleteUserRows, groupsOfUsers, insertUser, selectUser, selectUserByUserName,
  toStoredUser, updateUser, userNameTakenByOther, type UserRow, type UserRowWithGroupIds, type UserWrite,
} from '../../directory/users-store.js';
import { renderResource } from './render.js';
import type { ListQuery } from './list-query.js';
import { isUuid } from '../../lib/ids.js';
import { checkIndexedLength } from './limits.js';
import { insertUserBatched } from './create-batch.js';

export interface UserView {
  row: UserRow;
  groups?: { id: string; displayName: string }[];
}

function writeFrom(data: Record<string, unknown>, status: string, passwordHash: string | undefined): UserWrite {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  checkIndexedLength('userName', data.userName as string);
  checkIndexedLength('externalId', str(data.externalId));
  return {
    userName: data.userName as string,
    externalId: str(data.externalId),
    displayName: str(data.displayName),
    active: data.active === undefined ? true : data.active === true,
    data,
    passwordHash,
    status,
  };
}

/** Lifecycle: active=false suspends; active=true restores a suspended identity. */
function nextStatus(current: string | undefined, active: boolean, newUserStatus: string): string {
  if (!active) return 'suspended';
  if (current === undefined) return newUserStatus;
  return current === 'suspended' ? 'active' : current;
}

const notFound = (id: string) => new NotFoundError(`User ${id} not found`);

export async function createUser(ctx: ScimContext, body: unknown): Promise<{ view: UserView; adopted: boolean }> {
  const data = normalizeResource(ctx.users, body, 'create');
  const passwordHash = await extractPassword(data);
  const w = writeFrom(data, '', passwordHash);
  w.status = nextStatus(undefined, w.active, ctx.settings.newUserStatus);
  const id = randomUUID();
  const octx = { tenantId: ctx.tenantId, settings: ctx.settings };
  // Fast path: one statement (user + observers' rows). Taken unless an observer needs a
  // transaction; a userName conflict (adoption or 409) falls through to the transactional path.
  const companions = ctx.observer.userCreatedInserts?.(octx, {
    id, userName: w.userName, externalId: w.externalId, displayName: w.displayName, active: w.active,
    status: w.status, source: 'scim', data: w.data,
  });
  if (companions) {
    const row = await insertUserBatched(ctx.db, { tenantId: ctx.tenantId, id, w, source: 'scim', companions }, ctx.slot);
    if (row) return { view: { row, groups: [] }, adopted: false };
  }
  // A batched create lent its tenant slot out; the transaction below is the request's own work.
  await ctx.slot?.hold();
  return ctx.db.transaction(async (tx) => {
    const row = await insertUser(tx, ctx.tenantId, id, w, 'scim');
    if (row) {
      await ctx.observer.userCreated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredUser(row), { adopted: false });
      return { view: { row, groups: [] }, adopted: false };
    }
    const existing = await selectUserByUserName(tx, ctx.tenantId, w.userName, true);
    if (existing && existing.source === 'manual') {
      // Adoption: a manual identity with this userName becomes SCIM-managed instead of a duplicate.
      w.status = nextStatus(existing.status === 'suspended' ? 'suspended' : existing.status, w.active, ctx.settings.newUserStatus);
      const adopted = await updateUser(tx, ctx.tenantId, existing.id, w, 'scim');
      await ctx.observer.userCreated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredUser(adopted), { adopted: true });
      const groups = (await groupsOfUsers(tx, ctx.tenantId, [adopted.id])).get(adopted.id) ?? [];
      return { view: { row: adopted, groups }, adopted: true };
    }
    throw new UniquenessError(`userName "${w.userName}" is already in use in this tenant (userName is unique, case-insensitively)`);
  });
}

export async function getUser(ctx: ScimContext, id: string, withGroups: boolean): Promise<UserView> {
  if (!isUuid(id)) throw notFound(id);
  if (withGroups) {
    const row = await selectUserWithGroupIds(ctx.db, ctx.tenantId, id);
    if (!row) throw notFound(id);
    return (await withGroupNames(ctx, [row]))[0]!;
  }
  const row = await selectUser(ctx.db, ctx.tenantId, id);
  if (!row) throw notFound(id);
  return { row };
}

export async function replaceUser(ctx: ScimContext, id: string, body: unknown, ifMatch: string | undefined): Promise<UserView> {
  if (!isUuid(id)) throw notFound(id);
  const data = normalizeResource(ctx.users, body, 'replace');
  const passwordHash = await extractPassword(data);
  return ctx.db.transaction(async (tx) => {
    const before = await selectUser(tx, ctx.tenantId, id, true);
    if (!before) throw notFound(id);
    checkIfMatch(ifMatch, before.version);
    const w = writeFrom(data, '', passwordHash);
    w.status = nextStatus(before.status, w.active, ctx.settings.newUserStatus);
    if (await userNameTakenByOther(tx, ctx.tenantId, w.userName, id)) {
      throw new UniquenessError(`userName "${w.userName}" is already in use in this tenant`);
    }
    const after = await updateUser(tx, ctx.tenantId, id, w, 'scim');
    await ctx.observer.userUpdated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredUser(before), toStoredUser(after));
    const groups = (await groupsOfUsers(tx, ctx.tenantId, [id])).get(id) ?? [];
    return { row: after, groups };
  });
}

export async function patchUser(ctx: ScimContext, id: string, body: unknown, ifMatch: string | undefined): Promise<UserView> {
  if (!isUuid(id)) throw notFound(id);
  return ctx.db.transaction(async (tx) => {
    const before = await selectUser(tx, ctx.tenantId, id, true);
    if (!before) throw notFound(id);
    checkIfMatch(ifMatch, before.version);
    const result = applyPatch(before.data, body, ctx.users);
    let row = before;
    const passwordHash = await extractPassword(result.resource);
    if (result.changed || passwordHash !== undefined) {
      const w = writeFrom(result.resource, '', passwordHash);
      w.status = nextStatus(before.status, w.active, ctx.settings.newUserStatus);
      if (w.userName.toLowerCase() !== before.user_name.toLowerCase() && (await userNameTakenByOther(tx, ctx.tenantId, w.userName, id))) {
        throw new UniquenessError(`userName "${w.userName}" is already in use in this tenant`);
      }
      row = await updateUser(tx, ctx.tenantId, id, w);
      await ctx.observer.userUpdated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredUser(before), toStoredUser(row));
    }
    const groups = (await groupsOfUsers(tx, ctx.tenantId, [id])).get(id) ?? [];
    return { row, groups };
  });
}

export async function deleteUser(ctx: ScimContext, id: string, ifMatch: string | undefined): Promise<void> {
  if (!isUuid(id)) throw notFound(id);
  await ctx.db.transaction(async (tx) => {
    const before = await selectUser(tx, ctx.tenantId, id, true);
    if (!before) throw notFound(id);
    checkIfMatch(ifMatch, before.version);
    const groupIds = await deleteUserRows(tx, ctx.tenantId, id);
    await ctx.observer.userDeleted?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredUser(before), groupIds);
  });
}

export async function listUsers(ctx: ScimContext, q: ListQuery, withGroups: boolean): Promise<ListedPage<UserView>> {
  const { rows, ...page } = await listPage<UserRowWithGroupIds>(ctx.db, {
    table: 'scim_users', columns: USER_COLUMNS, rs: ctx.users, tenantId: ctx.tenantId, q, extra: withGroups ? GROUP_IDS : undefined,
  });
  return { ...page, views: withGroups ? await withGroupNames(ctx, rows) : rows.map((row) => ({ row })) };
}

/** Users with their `groups` (ids from the row, names from the cache), each user's groups sorted by displayName. */
async function withGroupNames(ctx: ScimContext, rows: UserRowWithGroupIds[]): Promise<UserView[]> {
  const idsOf = rows.map((r) => (r.group_ids ? r.group_ids.split(',') : []));
  const names = await ctx.groupNames.resolve(ctx.tenantId, [...new Set(idsOf.flat())]);
  return rows.map((row, i) => {
    const groups: { id: string; displayName: string }[] = [];
    for (const id of idsOf[i]!) {
      const displayName = names.get(id);
      // A group deleted between the two reads has no name in the answer: it is left out.
      if (displayName !== undefined) groups.push({ id, displayName });
    }
    groups.sort((a, b) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0));
    return { row, groups };
  });
}

export function renderUser(ctx: ScimContext, v: UserView): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  if (v.groups && v.groups.length > 0) {
    extra.groups = v.groups.map((g) => ({ value: g.id, $ref: `${ctx.baseUrl}/Groups/${g.id}`, display: g.displayName, type: 'direct' }));
  }
  const { active: _a, ...data } = v.row.data;
  return renderResource(v.row.id, { ...data, active: v.row.active }, extra, {
    resourceType: 'User',
    created: v.row.created_at,
    lastModified: v.row.updated_at,
    version: v.row.version,
    location: `${ctx.baseUrl}/Users/${v.row.id}`,
  });
}
