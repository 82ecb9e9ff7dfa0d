/** applyPatch: runs a PatchOp message against a stored resource (RFC 7644 §3.5.2). */
import type { ResourceSchemas, SchemaDef } from '../schema/types.js';
import { InvalidPathError, InvalidValueError, NoTargetError } from '../errors.js';
import { normalizeResource } from './deps.js';
import { parsePatchMessage } from './message.js';
import { isMembersTarget, memberOpFor } from './members.js';
import { applyAttrOp } from './ops.js';
import { resolvePatchPath } from './path.js';
import type { MemberOp, OpName, PatchOperation, PatchResult, SchemaTarget, Target } from './types.js';
import { deepEqual, eqName, findKey, isObj, type Obj } from './values.js';

interface State {
  rs: ResourceSchemas;
  resource: Obj;
  memberOps: MemberOp[];
}

/**
 * Operations apply in order and atomically: any error throws and nothing is returned.
 * The input is never mutated. For Groups, `members` is never read or written in the
 * resource; membership changes come back as `memberOps`, to be executed in order.
 */
export function applyPatch(resource: Record<string, unknown>, body: unknown, rs: ResourceSchemas): PatchResult {
  const ops = parsePatchMessage(body);
  const state: State = { rs, resource: structuredClone(resource), memberOps: [] };
  for (const o of ops) applyOperation(state, o);
  dropEmptyExtensions(state.resource, rs);
  const changed = state.memberOps.length > 0 || !deepEqual(state.resource, resource);
  // Keep the stored resource schema-valid (required attributes, types, canonical keys).
  return {
    resource: normalizeResource(rs, state.resource, 'patch-result'),
    changed,
    memberOps: state.memberOps,
  };
}

function applyOperation(state: State, o: PatchOperation): void {
  const where = `Operations[${o.index}]`;
  if (o.path === undefined) {
    if (o.op === 'remove') throw new NoTargetError(`${where}: "remove" requires a "path"`);
    if (!isObj(o.value)) {
      throw new InvalidValueError(`${where}: without a "path", "value" must be an object of attributes`);
    }
    applyValueObject(state, o.op, o.value, undefined);
    return;
  }
  applyTarget(state, o.op, resolvePatchPath(state.rs, o.path), o.value, o.hasValue, true);
}

/**
 * `explicit` is false for keys of a path-less value: there readOnly attributes
 * (id, meta, groups) are ignored, as Okta echoes `id` back when renaming a group.
 */
function applyTarget(state: State, op: OpName, t: Target, value: unknown, hasValue: boolean, explicit: boolean): void {
  if (t.kind === 'schema') {
    applySchemaTarget(state, op, t, value, hasValue);
    return;
  }
  if (isMembersTarget(state.rs, t)) {
    const m = memberOpFor(op, t, value, hasValue);
    if (m) state.memberOps.push(m);
    return;
  }
  if (!explicit && (t.attr.mutability === 'readOnly' || t.sub?.mutability === 'readOnly')) return;
  applyAttrOp(state.resource, op, t, value, hasValue);
}

/** A whole schema URN as path or key: its object's keys are attribute paths within it. */
function applySchemaTarget(state: State, op: OpName, t: SchemaTarget, value: unknown, hasValue: boolean): void {
  const removing = op === 'remove' || (op === 'replace' && value === null);
  if (removing) {
    if (!t.isExtension) throw new InvalidPathError(`"${t.text}": the core schema cannot be removed`);
    if (op === 'remove' && hasValue && value !== null) {
      throw new InvalidValueError(`"${t.text}": remove of a schema takes no "value"`);
    }
    const key = findKey(state.resource, t.schema.id);
    if (key !== undefined) delete state.resource[key];
    return;
  }
  if (value === null && op === 'add') return;
  if (!isObj(value)) throw new InvalidValueError(`"${t.text}": value must be an object of attributes`);
  applyValueObject(state, op, value, t.schema);
}

/** Path-less add/replace: each key is a path (Entra sends dotted, filtered and URN keys). */
function applyValueObject(state: State, op: OpName, obj: Obj, schema: SchemaDef | undefined): void {
  for (const [key, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (schema === undefined && eqName(key, 'schemas')) continue; // not an attribute to patch
    const text = schema && schema.id !== state.rs.core.id ? `${schema.id}:${key}` : key;
    applyTarget(state, op, resolvePatchPath(state.rs, text), v, true, false);
  }
}

/** Drop emptied extension objects, so change detection does not see `{}` as a change. */
function dropEmptyExtensions(res: Obj, rs: ResourceSchemas): void {
  for (const ext of rs.extensions) {
    const key = findKey(res, ext.id);
    if (key !== undefined && (!isObj(res[key]) || Object.keys(res[key] as Obj).length === 0)) delete res[key];
  }
}
