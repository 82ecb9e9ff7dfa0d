/**
 * Group `members` never live in the resource JSON (they are rows, and a PATCH never
 * loads them), so operations on them become MemberOps for the caller to run as SQL.
 */
import type { ResourceSchemas } from '../schema/types.js';
import type { FilterNode } from '../filter/ast.js';
import { InvalidFilterError, InvalidPathError, InvalidValueError } from '../errors.js';
import type { AttrTarget, MemberOp, MemberRef, OpName } from './types.js';
import { eqName, findKey, isObj } from './values.js';

export function isMembersTarget(rs: ResourceSchemas, t: AttrTarget): boolean {
  return rs.resourceType === 'Group' && !t.isExtension && eqName(t.attr.name, 'members');
}

/** The MemberOp for one operation on `members`, or undefined when it changes nothing. */
export function memberOpFor(op: OpName, t: AttrTarget, value: unknown, hasValue: boolean): MemberOp | undefined {
  if (t.sub) {
    throw new InvalidPathError(`"${t.text}": sub-attributes of members cannot be patched; add or remove the member instead`);
  }
  if (t.filter) {
    if (op !== 'remove') {
      throw new InvalidFilterError(`"${t.text}": a filter on members is only supported for remove`);
    }
    return { kind: 'remove', ids: idsFromFilter(t.filter, t.text) };
  }
  switch (op) {
    case 'add': {
      const members = toMembers(value, t.text);
      return members.length ? { kind: 'add', members } : undefined;
    }
    case 'replace':
      return { kind: 'replace', members: value === null ? [] : toMembers(value, t.text) };
    case 'remove': {
      // Entra: {"op":"Remove","path":"members","value":[{"value":"id"}]} removes only those ids.
      if (!hasValue || value === null) return { kind: 'removeAll' };
      const ids = toMembers(value, t.text).map((m) => m.value);
      return ids.length ? { kind: 'remove', ids } : undefined;
    }
  }
}

/** `value eq "id"`, or such comparisons joined by `or`; anything else is refused. */
function idsFromFilter(filter: FilterNode, text: string): string[] {
  const ids: string[] = [];
  const walk = (n: FilterNode): boolean => {
    if (n.kind === 'or') return walk(n.left) && walk(n.right);
    if (n.kind !== 'compare' || n.op !== 'eq' || n.path.urn !== undefined) return false;
    const name = n.path.sub === undefined ? n.path.attr : eqName(n.path.attr, 'members') ? n.path.sub : undefined;
    if (name === undefined || !eqName(name, 'value')) return false;
    if (typeof n.value !== 'string' || n.value.trim() === '') return false;
    if (!ids.includes(n.value)) ids.push(n.value);
    return true;
  };
  if (!walk(filter)) {
    throw new InvalidFilterError(
      `"${text}": this members filter is not supported for removal; use members[value eq "<id>"] (optionally joined with "or")`,
    );
  }
  return ids;
}

function toMembers(value: unknown, text: string): MemberRef[] {
  const list = Array.isArray(value) ? value : [value];
  const out: MemberRef[] = [];
  list.forEach((item, i) => {
    const where = `${text}[${i}]`;
    let ref: MemberRef;
    if (typeof item === 'string') {
      ref = { value: item };
    } else if (isObj(item)) {
      const vk = findKey(item, 'value');
      const v = vk === undefined ? undefined : item[vk];
      if (typeof v !== 'string') throw new InvalidValueError(`${where}: member "value" must be a non-empty string`);
      ref = { value: v };
      for (const name of ['type', 'display'] as const) {
        const k = findKey(item, name);
        const x = k === undefined ? undefined : item[k];
        if (typeof x === 'string') ref[name] = x;
        else if (x !== undefined && x !== null) throw new InvalidValueError(`${where}: member "${name}" must be a string`);
      }
      // Microsoft's Postman suite sends the display text as a non-standard "displayName".
      const dk = ref.display === undefined ? findKey(item, 'displayName') : undefined;
      if (dk !== undefined && typeof item[dk] === 'string') ref.display = item[dk] as string;
    } else {
      throw new InvalidValueError(`${where}: a member must be an object with a "value"`);
    }
    if (ref.value.trim() === '') throw new InvalidValueError(`${where}: member "value" must be a non-empty string`);
    if (!out.some((m) => m.value === ref.value)) out.push(ref);
  });
  return out;
}
