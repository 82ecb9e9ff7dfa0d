/** Small value helpers shared by the PATCH modules. */
import type { AttributeDef } from '../schema/types.js';
import type { FilterNode } from '../filter/ast.js';
import { InvalidValueError } from '../errors.js';
import { coerceValue } from './deps.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function eqName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Existing key in `obj` matching `name` case-insensitively (stored keys should be canonical already). */
export function findKey(obj: Obj, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  return Object.keys(obj).find((k) => eqName(k, name));
}

/** RFC 7643 §2.5: null and [] are the same state as unassigned. */
export function isUnassigned(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The attribute as a single value, for coercing one element of a multi-valued attribute. */
export function singular(attr: AttributeDef): AttributeDef {
  return attr.multiValued ? { ...attr, multiValued: false } : attr;
}

/**
 * Coerce one (singular) value for `attr` with the schema module's coercion
 * ("True" → true, bare id → {value}, canonical sub-attribute keys, readOnly
 * sub-attributes dropped). undefined means "empty", i.e. unassigned.
 */
export function coerceOne(attr: AttributeDef, value: unknown, where: string): unknown {
  const coerced = coerceValue(singular(attr), value, where);
  if (Array.isArray(coerced)) throw new InvalidValueError(`Attribute "${where}" takes a single value, not an array`);
  return coerced;
}

/**
 * Coerce a value for a multi-valued attribute into a de-duplicated array of elements
 * (the schema module keeps the first primary=true and drops the flag on the rest).
 */
export function coerceMany(attr: AttributeDef, value: unknown, where: string): unknown[] {
  const coerced = coerceValue(attr.multiValued ? attr : { ...attr, multiValued: true }, value, where);
  const out: unknown[] = [];
  for (const c of Array.isArray(coerced) ? coerced : []) {
    if (!out.some((y) => deepEqual(y, c))) out.push(c);
  }
  return out;
}

/**
 * The element implied by a filter made only of `eq` comparisons joined by `and`
 * (`type eq "work"` → {type:"work"}), used to create the element a filtered path
 * names when none exists yet (Entra sends `emails[type eq "work"].value` for new users).
 * undefined when the filter is anything else.
 */
export function elementFromEqFilter(filter: FilterNode, attr: AttributeDef): Obj | undefined {
  const out: Obj = {};
  const walk = (n: FilterNode): boolean => {
    if (n.kind === 'and') return walk(n.left) && walk(n.right);
    if (n.kind !== 'compare' || n.op !== 'eq' || n.value === null || n.path.urn) return false;
    // Inner paths are relative (`type`), but tolerate `emails.type` too.
    const name = n.path.sub !== undefined && eqName(n.path.attr, attr.name) ? n.path.sub : n.path.sub === undefined ? n.path.attr : undefined;
    if (name === undefined) return false;
    const sd = attr.subAttributes?.find((s) => eqName(s.name, name));
    if (!sd || sd.multiValued || sd.type === 'complex') return false;
    const v = coerceValue(sd, n.value, `${attr.name}.${sd.name}`);
    const prev = out[sd.name];
    if (prev !== undefined && !deepEqual(prev, v)) return false;
    out[sd.name] = v;
    return true;
  };
  if (attr.type !== 'complex' || !walk(filter)) return undefined;
  return out;
}
