/**
 * add / replace / remove on one resolved attribute target (RFC 7644 §3.5.2.1–3).
 * Values are computed from the old value without mutating it, so mutability can be
 * checked by comparing before and after.
 */
import type { AttributeDef } from '../schema/types.js';
import { MutabilityError, NoTargetError } from '../errors.js';
import { matchesValueFilter } from './deps.js';
import type { AttrTarget, OpName } from './types.js';
import {
  coerceMany, coerceOne, deepEqual, elementFromEqFilter, findKey, isObj, isUnassigned, type Obj,
} from './values.js';

export function applyAttrOp(res: Obj, op: OpName, t: AttrTarget, value: unknown, hasValue: boolean): void {
  const readOnly = t.attr.mutability === 'readOnly' ? t.attr : t.sub?.mutability === 'readOnly' ? t.sub : undefined;
  if (readOnly) throw new MutabilityError(`"${t.text}": attribute "${readOnly.name}" is readOnly`);

  const c = container(res, t, op !== 'remove');
  if (!c) return; // removing from an extension the resource does not have: nothing to do
  const key = findKey(c, t.attr.name);
  const before = key === undefined ? undefined : c[key];

  let after: unknown;
  if (t.filter) after = filteredOp(op, t, before, value);
  else if (t.sub) after = subOp(op, t, t.sub, before, value);
  else after = wholeOp(op, t, before, value, hasValue);

  checkMutability(t, before, after);
  if (key !== undefined) delete c[key];
  if (!isUnassigned(after)) c[t.attr.name] = after;
}

/** Core attributes live at the root; extension attributes under their schema URN key. */
function container(res: Obj, t: AttrTarget, create: boolean): Obj | undefined {
  if (!t.isExtension) return res;
  const key = findKey(res, t.schema.id);
  const c = key === undefined ? undefined : res[key];
  if (isObj(c)) return c;
  if (!create) return undefined;
  const fresh: Obj = {};
  res[t.schema.id] = fresh;
  return fresh;
}

function checkMutability(t: AttrTarget, before: unknown, after: unknown): void {
  const name = t.attr.name;
  if (t.attr.required && !isUnassigned(before) && isUnassigned(after)) {
    throw new MutabilityError(`"${t.text}": attribute "${name}" is required and cannot be removed`);
  }
  // RFC 7644 §3.5.2: an immutable attribute may be added when unassigned, never changed.
  if (t.attr.mutability === 'immutable' && !isUnassigned(before) && !deepEqual(before, after)) {
    throw new MutabilityError(`"${t.text}": attribute "${name}" is immutable`);
  }
  if (!t.attr.multiValued && t.attr.subAttributes && isObj(before)) {
    const a = isObj(after) ? after : {};
    for (const s of t.attr.subAttributes) {
      const b = before[s.name];
      if (isUnassigned(b) || deepEqual(b, a[s.name])) continue;
      if (s.mutability === 'immutable') throw new MutabilityError(`"${t.text}": "${name}.${s.name}" is immutable`);
      if (s.required && isUnassigned(a[s.name]) && !isUnassigned(after)) {
        throw new MutabilityError(`"${t.text}": "${name}.${s.name}" is required and cannot be removed`);
      }
    }
  }
}

// ---------- no filter, no sub-attribute ----------
function wholeOp(op: OpName, t: AttrTarget, before: unknown, value: unknown, hasValue: boolean): unknown {
  const attr = t.attr;
  if (op === 'remove') {
    // A remove that carries values removes only those (Entra's members shape, generalised).
    if (attr.multiValued && hasValue && value !== null && Array.isArray(before)) {
      const drop = coerceMany(attr, value, t.text);
      return before.filter((el) => !drop.some((d) => sameElement(el, d)));
    }
    return undefined;
  }
  if (isUnassigned(value)) return op === 'add' ? before : undefined; // RFC 7643 §2.5: null ≡ unassigned

  if (attr.multiValued) {
    const incoming = coerceMany(attr, value, t.text);
    if (op === 'replace') return singlePrimary(incoming, new Set(incoming));
    const out = Array.isArray(before) ? [...before] : [];
    const fresh = new Set<unknown>();
    for (const x of incoming) {
      // An element already present (ignoring its primary flag) is not added again, so
      // IdP retries change nothing; a primary=true in the request is carried over to it.
      const i = out.findIndex((y) => deepEqual(withoutPrimary(y), withoutPrimary(x)));
      if (i < 0) {
        out.push(x);
        fresh.add(x);
      } else if (isObj(x) && x.primary === true && isObj(out[i]) && (out[i] as Obj).primary !== true) {
        out[i] = { ...(out[i] as Obj), primary: true };
        fresh.add(out[i]);
      }
    }
    return singlePrimary(out, fresh);
  }

  // Entra's tutorial sends a single-valued manager as a one-element array.
  const one = Array.isArray(value) && value.length === 1 ? value[0] : value;
  const incoming = coerceOne(attr, one, t.text);
  if (attr.type !== 'complex' || !isObj(incoming) || !isObj(before)) return incoming;
  // RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged ... except when a
  // reference's `value` changes: its old $ref/display describe the previous referent.
  if (incoming.value !== undefined && before.value !== undefined && !deepEqual(incoming.value, before.value)) {
    return incoming;
  }
  return { ...before, ...incoming };
}

// ---------- `attr.sub` without a filter ----------
function subOp(op: OpName, t: AttrTarget, sub: AttributeDef, before: unknown, value: unknown): unknown {
  const setSub = (el: Obj): Obj => {
    if (op === 'remove' || isUnassigned(value)) return withoutKey(el, sub.name);
    return withSub(el, sub.name, subValue(op, sub, el[sub.name], value, t.text));
  };
  if (!t.attr.multiValued) {
    if (op === 'remove' && !isObj(before)) return before;
    const out = setSub(isObj(before) ? before : {});
    return Object.keys(out).length ? out : undefined;
  }
  // `emails.value` on a multi-valued attribute applies to every element.
  const arr = Array.isArray(before) ? before : [];
  if (!arr.length) {
    if (op === 'remove' || isUnassigned(value)) return before;
    return [setSub({})];
  }
  const out = arr.map((el) => (isObj(el) ? setSub(el) : el)).filter((el) => !isObj(el) || Object.keys(el).length);
  return singlePrimary(out, new Set(out));
}

function subValue(op: OpName, sub: AttributeDef, old: unknown, value: unknown, where: string): unknown {
  if (!sub.multiValued) return coerceOne(sub, value, where);
  const incoming = coerceMany(sub, value, where);
  if (op === 'replace' || !Array.isArray(old)) return incoming;
  return [...old, ...incoming.filter((x) => !old.some((y) => deepEqual(x, y)))];
}

// ---------- `attr[filter]` and `attr[filter].sub` ----------
function filteredOp(op: OpName, t: AttrTarget, before: unknown, value: unknown): unknown {
  const attr = t.attr;
  const sub = t.sub;
  const arr = Array.isArray(before) ? before : [];
  const hits = new Set(arr.filter((el) => matchesValueFilter(t.filter!, el, attr)));

  if (op === 'remove') {
    if (!hits.size) return before; // idempotent: IdPs retry removals
    if (!sub) return arr.filter((el) => !hits.has(el));
    return arr
      .map((el) => (hits.has(el) && isObj(el) ? withoutKey(el, sub.name) : el))
      .filter((el) => !isObj(el) || Object.keys(el).length);
  }
  if (isUnassigned(value) && sub) {
    // replace with null on `x[f].sub` unassigns that sub-attribute of the matches.
    return arr.map((el) => (hits.has(el) && isObj(el) ? withoutKey(el, sub.name) : el));
  }
  if (isUnassigned(value)) return op === 'add' ? before : arr.filter((el) => !hits.has(el));

  const seed = elementFromEqFilter(t.filter!, attr);
  const written = new Set<unknown>();
  if (!hits.size) {
    // Entra sends `emails[type eq "work"].value` before any work e-mail exists: create it
    // from the filter's eq terms. Any other filter has no element to build (RFC: noTarget).
    if (!seed) throw new NoTargetError(`"${t.text}": no value matches the filter`);
    const el = sub
      ? withSub(seed, sub.name, subValue(op, sub, undefined, value, t.text))
      : { ...seed, ...asObject(coerceOne(attr, value, t.text)) };
    written.add(el);
    return singlePrimary([...arr, el], written);
  }
  const out = arr.map((el) => {
    if (!hits.has(el)) return el;
    const base = isObj(el) ? el : {};
    let next: Obj;
    if (sub) next = withSub(base, sub.name, subValue(op, sub, base[sub.name], value, t.text));
    else if (op === 'add') next = { ...base, ...asObject(coerceOne(attr, value, t.text)) };
    // replace: the element is replaced, keeping the filter's eq terms so it stays addressable.
    else next = { ...(seed ?? {}), ...asObject(coerceOne(attr, value, t.text)) };
    written.add(next);
    return next;
  });
  return singlePrimary(out, written);
}

// ---------- helpers ----------
function asObject(v: unknown): Obj {
  return isObj(v) ? v : v === undefined ? {} : { value: v };
}

/** `el` with `name` set, or removed when the coerced value is empty. */
function withSub(el: Obj, name: string, v: unknown): Obj {
  if (isUnassigned(v)) return withoutKey(el, name);
  return { ...el, [name]: v };
}

function withoutKey(el: Obj, k: string): Obj {
  const out = { ...el };
  delete out[k];
  return out;
}

function withoutPrimary(el: unknown): unknown {
  return isObj(el) && 'primary' in el ? withoutKey(el, 'primary') : el;
}

/** Elements are "the same" when deep-equal, or (complex) when their `value`s are equal. */
function sameElement(el: unknown, d: unknown): boolean {
  if (deepEqual(el, d)) return true;
  return isObj(el) && isObj(d) && d.value !== undefined && deepEqual(el.value, d.value);
}

/**
 * RFC 7644 §3.5.2: setting one value's "primary" to true sets it false on the others.
 * The last element this operation wrote with primary=true wins.
 */
function singlePrimary(arr: unknown[], written: Set<unknown>): unknown[] {
  let winner = -1;
  arr.forEach((el, i) => {
    if (written.has(el) && isObj(el) && el.primary === true) winner = i;
  });
  if (winner < 0) return arr;
  return arr.map((el, i) => (i !== winner && isObj(el) && el.primary === true ? { ...el, primary: false } : el));
}
