import { randomUUID } from 'node:crypto';
import type { ScimContext } from './context.js';
import type { Queryable } from '../../db/types.js';
import { normalizeResource } from '../schema/validate.js';
import { applyPatch, type MemberOp, type MemberRef } from '../patch/index.js';
import { listPage, type ListedPage } from './list-page.js';
import { NotFoundError, UniquenessError } from '../errors.js';
import { checkIfMatch } from './etag.js';
import {
  GROUP_COLUMNS, addMembers, deleteGroupRow, displayNameTakenByOther, insertGroup, membersOfGroups, removeAllMembers,
  removeMembers, replaceMembers, selectGroup, toStoredGroup, touchGroup, updateGroup, type GroupRow, type GroupWrite, type MemberView,
} from '../../directory/groups-store.js';
import { renderResource } from './render.js';
import type { ListQuery } from './list-query.js';
import { isUuid } from '../../lib/ids.js';
import { checkIndexedLength } from './limits.js';
import { notifyGroupRenamed } from '../../directory/group-names.js';

export interface GroupView {
  row: GroupRow;
  members?: MemberView[];
}

const notFound = (id: string) => new NotFoundError(`Group ${id} not found`);
const taken = (name: string) =>
  new UniquenessError(`A group with displayName "${name}" already exists in this tenant (displayName is unique, case-insensitively)`);

/** Splits a normalized Group into the row fields and its members (which live in rows). */
function split(data: Record<string, unknown>): { w: GroupWrite; members: MemberRef[] } {
  const { members, ...rest } = data;
  checkIndexedLength('displayName', rest.displayName as string);
  checkIndexedLength('externalId', typeof rest.externalId === 'string' ? rest.externalId : null);
  return {
    w: {
      displayName: rest.displayName as string,
      externalId: typeof rest.externalId === 'string' ? rest.externalId : null,
      data: rest,
    },
    members: Array.isArray(members) ? (members as MemberRef[]) : [],
  };
}

async function runMemberOps(tx: Queryable, ctx: ScimContext, groupId: string, ops: MemberOp[]): Promise<{ added: string[]; removed: string[]; skipped: string[] }> {
  const added: string[] = [];
  const removed: string[] = [];
  const skipped: string[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'add': {
        const r = await addMembers(tx, ctx.tenantId, groupId, op.members);
        added.push(...r.added);
        skipped.push(...r.skipped);
        break;
      }
      case 'remove': removed.push(...(await removeMembers(tx, ctx.tenantId, groupId, op.ids))); break;
      case 'removeAll': removed.push(...(await removeAllMembers(tx, ctx.tenantId, groupId))); break;
      case 'replace': {
        const r = await replaceMembers(tx, ctx.tenantId, groupId, op.members);
        added.push(...r.added);
        removed.push(...r.removed);
        skipped.push(...r.skipped);
        break;
      }
    }
  }
  // A member added then removed in one request (or the reverse) nets out.
  const a = new Set(added);
  const r = new Set(removed);
  return { added: [...a].filter((x) => !r.has(x)), removed: [...r].filter((x) => !a.has(x)), skipped };
}

export async function createGroup(ctx: ScimContext, body: unknown): Promise<GroupView> {
  const { w, members } = split(normalizeResource(ctx.groups, body, 'create'));
  return ctx.db.transaction(async (tx) => {
    const row = await insertGroup(tx, ctx.tenantId, randomUUID(), w);
    if (!row) throw taken(w.displayName);
    await ctx.observer.groupCreated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredGroup(row));
    const { added } = await addMembers(tx, ctx.tenantId, row.id, members);
    await ctx.observer.membersChanged?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, row.id, added, []);
    const m = (await membersOfGroups(tx, ctx.tenantId, [row.id], ctx.membersInlineMax)).get(row.id) ?? [];
    return { row, members: m };
  });
}

export async function getGroup(ctx: ScimContext, id: string, withMembers: boolean): Promise<GroupView> {
  if (!isUuid(id)) throw notFound(id);
  const row = await selectGroup(ctx.db, ctx.tenantId, id);
  if (!row) throw notFound(id);
  const members = withMembers ? (await membersOfGroups(ctx.db, ctx.tenantId, [id], ctx.membersInlineMax)).get(id) ?? [] : undefined;
  return { row, members };
}

export async function replaceGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: string | undefined, withMembers: boolean): Promise<GroupView> {
  if (!isUuid(id)) throw notFound(id);
  const { w, members } = split(normalizeResource(ctx.groups, body, 'replace'));
  return ctx.db.transaction(async (tx) => {
    const before = await selectGroup(tx, ctx.tenantId, id, true);
    if (!before) throw notFound(id);
    checkIfMatch(ifMatch, before.version);
    if (w.displayName.toLowerCase() !== before.display_name.toLowerCase() && (await displayNameTakenByOther(tx, ctx.tenantId, w.displayName, id))) {
      throw taken(w.displayName);
    }
    const row = await updateGroup(tx, ctx.tenantId, id, w);
    if (row.display_name !== before.display_name) await renamed(ctx, tx, id);
    await ctx.observer.groupUpdated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredGroup(before), toStoredGroup(row));
    const { added, removed } = await runMemberOps(tx, ctx, id, [{ kind: 'replace', members }]);
    await ctx.observer.membersChanged?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, id, added, removed);
    const m = withMembers ? (await membersOfGroups(tx, ctx.tenantId, [id], ctx.membersInlineMax)).get(id) ?? [] : undefined;
    return { row, members: m };
  });
}

/**
 * PATCH never loads the members: the resource part is patched as JSON, member operations run
 * as row inserts/deletes, so the cost is O(operation size) whatever the group size.
 */
export async function patchGroup(ctx: ScimContext, id: string, body: unknown, ifMatch: string | undefined, withMembers: boolean): Promise<GroupView> {
  if (!isUuid(id)) throw notFound(id);
  return ctx.db.transaction(async (tx) => {
    const before = await selectGroup(tx, ctx.tenantId, id, true);
    if (!before) throw notFound(id);
    checkIfMatch(ifMatch, before.version);
    const result = applyPatch(before.data, body, ctx.groups);
    let row = before;
    if (result.changed && !sameJson(result.resource, before.data)) {
      const { w } = split(result.resource);
      if (w.displayName.toLowerCase() !== before.display_name.toLowerCase() && (await displayNameTakenByOther(tx, ctx.tenantId, w.displayName, id))) {
        throw taken(w.displayName);
      }
      row = await updateGroup(tx, ctx.tenantId, id, w);
      if (row.display_name !== before.display_name) await renamed(ctx, tx, id);
      await ctx.observer.groupUpdated?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredGroup(before), toStoredGroup(row));
    }
    if (result.memberOps.length > 0) {
      const { added, removed } = await runMemberOps(tx, ctx, id, result.memberOps);
      const octx = { tenantId: ctx.tenantId, settings: ctx.settings };
      const changed = added.length > 0 || removed.length > 0;
      // Member-only change (the common IdP PATCH): version bump and observers' rows in one statement.
      const companions = changed && row === before ? ctx.observer.membersChangedInserts?.(octx, id, added, removed) : undefined;
      if (companions) {
        row = await touchGroup(tx, ctx.tenantId, id, companions);
      } else {
        if (changed && row === before) row = await touchGroup(tx, ctx.tenantId, id);
        await ctx.observer.membersChanged?.(tx, octx, id, added, removed);
      }
    }
    const members = withMembers ? (await membersOfGroups(tx, ctx.tenantId, [id], ctx.membersInlineMax)).get(id) ?? [] : undefined;
    return { row, members };
  });
}

/** A user's `groups` shows the group's name from a cache: every process must forget the old one. */
async function renamed(ctx: ScimContext, tx: Queryable, id: string): Promise<void> {
  await notifyGroupRenamed(tx, ctx.tenantId, id);
  ctx.groupNames.forget(ctx.tenantId, id);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function deleteGroup(ctx: ScimContext, id: string, ifMatch: string | undefined): Promise<void> {
  if (!isUuid(id)) throw notFound(id);
  await ctx.db.transaction(async (tx) => {
    const before = await selectGroup(tx, ctx.tenantId, id, true);
    if (!before) throw notFound(id);
    checkIfMatch(ifMatch, before.version);
    const memberIds = await deleteGroupRow(tx, ctx.tenantId, id);
    await ctx.observer.groupDeleted?.(tx, { tenantId: ctx.tenantId, settings: ctx.settings }, toStoredGroup(before), memberIds);
  });
}

export async function listGroups(ctx: ScimContext, q: ListQuery, withMembers: boolean): Promise<ListedPage<GroupView>> {
  const { rows, ...page } = await listPage<GroupRow>(ctx.db, { table: 'scim_groups', columns: GROUP_COLUMNS, rs: ctx.groups, tenantId: ctx.tenantId, q });
  // Members of the page's groups, in page order, up to membersPageMax in all (the response stays bounded:
  // 1,000 groups of 10,000 members were a 184 MB answer); the rest are paged with groups.value eq.
  const members = withMembers ? await membersOfGroups(ctx.db, ctx.tenantId, rows.map((r) => r.id), ctx.membersInlineMax, ctx.membersPageMax) : undefined;
  return { ...page, views: rows.map((row) => ({ row, members: members ? members.get(row.id) ?? [] : undefined })) };
}

export function renderGroup(ctx: ScimContext, v: GroupView): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  if (v.members && v.members.length > 0) {
    extra.members = v.members.map((m) => {
      const out: Record<string, unknown> = { value: m.value, $ref: `${ctx.baseUrl}/${m.type === 'Group' ? 'Groups' : 'Users'}/${m.value}`, type: m.type };
      if (m.display) out.display = m.display;
      return out;
    });
  }
  return renderResource(v.row.id, v.row.data, extra, {
    resourceType: 'Group',
    created: v.row.created_at,
    lastModified: v.row.updated_at,
    version: v.row.version,
    location: `${ctx.baseUrl}/Groups/${v.row.id}`,
  });
}
