import { randomUUID } from 'node:crypto';
import type { ProvisioningObserver, StoredGroup, StoredUser } from '../directory/observer.js';
import { emitEvent, emitEvents, type PendingEvent } from './outbox.js';

/** Member id lists in one event are chunked so a 100k-member PUT never makes a megabyte payload. */
export const MEMBER_IDS_PER_EVENT = 1000;

export function userPayload(u: StoredUser): Record<string, unknown> {
  return {
    id: u.id,
    userName: u.userName,
    externalId: u.externalId,
    displayName: u.displayName,
    active: u.active,
    status: u.status,
    source: u.source,
    // the SCIM resource as stored (core + extensions); passwords are never part of it
    scim: u.data,
  };
}

export const groupPayload = (g: StoredGroup): Record<string, unknown> => ({ id: g.id, displayName: g.displayName, externalId: g.externalId });

/** Top-level attributes whose value changed, `active` aside (it has its own events). */
function changedAttributes(before: StoredUser, after: StoredUser): string[] {
  const keys = new Set([...Object.keys(before.data), ...Object.keys(after.data)]);
  keys.delete('active');
  const out: string[] = [];
  for (const k of keys) if (JSON.stringify(before.data[k]) !== JSON.stringify(after.data[k])) out.push(k);
  if (before.userName !== after.userName && !out.includes('userName')) out.push('userName');
  return out.sort();
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * The outbox side of provisioning: every SCIM write records its events through the transaction
 * it runs in, with one INSERT (several events of one write go in the same statement).
 */
export function eventsObserver(): ProvisioningObserver {
  return {
    userCreatedInserts(ctx, user) {
      return [{
        table: 'events',
        columns: ['tenant_id', 'id', 'type', 'data'],
        values: [ctx.tenantId, randomUUID(), 'user.created', JSON.stringify({ user: userPayload(user) })],
        casts: ['uuid', 'uuid', 'text', 'jsonb'],
      }];
    },
    async userCreated(tx, ctx, user, info) {
      await emitEvent(tx, ctx.tenantId, info.adopted ? 'identity.adopted' : 'user.created', { user: userPayload(user) });
    },

    async userUpdated(tx, ctx, before, after) {
      const events: PendingEvent[] = [];
      const changed = changedAttributes(before, after);
      if (changed.length > 0) events.push({ type: 'user.updated', data: { user: userPayload(after), changed } });
      if (before.active && !after.active) events.push({ type: 'user.suspended', data: { user: userPayload(after) } });
      else if (!before.active && after.active) events.push({ type: 'user.reactivated', data: { user: userPayload(after) } });
      await emitEvents(tx, ctx.tenantId, events);
    },

    async userDeleted(tx, ctx, user, groupIds) {
      const { scim: _s, ...u } = userPayload(user);
      await emitEvent(tx, ctx.tenantId, 'user.deleted', { user: u, groupIds });
    },

    async groupCreated(tx, ctx, group) {
      await emitEvent(tx, ctx.tenantId, 'group.created', { group: groupPayload(group) });
    },

    async groupUpdated(tx, ctx, before, after) {
      if (before.displayName === after.displayName) return;
      await emitEvent(tx, ctx.tenantId, 'group.renamed', { group: groupPayload(after), previousDisplayName: before.displayName });
    },

    async groupDeleted(tx, ctx, group, memberIds) {
      const truncated = memberIds.length > MEMBER_IDS_PER_EVENT;
      await emitEvent(tx, ctx.tenantId, 'group.deleted', {
        group: groupPayload(group),
        memberCount: memberIds.length,
        memberIds: truncated ? memberIds.slice(0, MEMBER_IDS_PER_EVENT) : memberIds,
        ...(truncated ? { memberIdsTruncated: true } : {}),
      });
    },

    // One event fits one companion row; several (added and removed, or over MEMBER_IDS_PER_EVENT)
    // need their seq order, which only the multi-row INSERT of membersChanged guarantees.
    membersChangedInserts(ctx, groupId, added, removed) {
      if (added.length > 0 === removed.length > 0) return undefined;
      const ids = added.length > 0 ? added : removed;
      if (ids.length > MEMBER_IDS_PER_EVENT) return undefined;
      return [{
        table: 'events',
        columns: ['tenant_id', 'id', 'type', 'data'],
        values: [ctx.tenantId, randomUUID(), added.length > 0 ? 'group.members_added' : 'group.members_removed', JSON.stringify({ group: { id: groupId }, memberIds: ids })],
        casts: ['uuid', 'uuid', 'text', 'jsonb'],
      }];
    },

    async membersChanged(tx, ctx, groupId, added, removed) {
      const events: PendingEvent[] = [];
      for (const ids of chunks(added, MEMBER_IDS_PER_EVENT)) events.push({ type: 'group.members_added', data: { group: { id: groupId }, memberIds: ids } });
      for (const ids of chunks(removed, MEMBER_IDS_PER_EVENT)) events.push({ type: 'group.members_removed', data: { group: { id: groupId }, memberIds: ids } });
      await emitEvents(tx, ctx.tenantId, events);
    },
  };
}
