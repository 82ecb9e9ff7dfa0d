/**
 * In-memory reference evaluator (RFC 7644 §3.4.2.2 semantics). Used on one
 * resource at a time (PATCH value filters) and as the oracle the SQL compiler is
 * tested against; never to filter a tenant's rows.
 *
 * Semantics shared with compile-sql.ts:
 *  - strings compare case-insensitively unless the attribute is caseExact;
 *  - a multi-valued attribute matches if any value matches; without a
 *    sub-attribute, a multi-valued complex attribute compares its `value`;
 *  - `ne` is the negation of `eq` (an absent attribute is "not equal");
 *  - `eq null` means "not present", `ne null` means "present";
 *  - `pr` means present and non-empty; values of the wrong JSON type never match.
 */
import { InvalidFilterError } from '../errors.js';
import type { AttributeDef, ResourceSchemas } from '../schema/types.js';
import type { CompareOp, FilterNode } from './ast.js';
import { printPath } from './print.js';
import {
  UUID_RE, comparedDef, getKey, isIdAttribute, isPresent, resolveElementPath, resolveFilterPath,
  storedDateTime, toElements, typeLiteral, type Typed,
} from './semantics.js';

/**
 * Does `resource` (its SCIM JSON representation, with `groups` computed) match the filter?
 * The whole filter is validated first, so an invalid filter fails whatever the data
 * (and-/or-short-circuiting must not hide an unknown attribute, as SQL would not).
 */
export function matchesFilter(node: FilterNode, resource: Record<string, unknown>, rs: ResourceSchemas): boolean {
  checkFilter(node, rs);
  return evalNode(node, resource, rs);
}

/** Throws InvalidFilterError if the filter cannot be evaluated against these schemas. */
export function checkFilter(node: FilterNode, rs: ResourceSchemas): void {
  switch (node.kind) {
    case 'and':
    case 'or':
      checkFilter(node.left, rs);
      checkFilter(node.right, rs);
      return;
    case 'not':
      checkFilter(node.filter, rs);
      return;
    case 'valuePath':
      checkElementFilter(node.filter, valuePathAttr(rs, node).attr);
      return;
    case 'present':
      resolveFilterPath(rs, node.path);
      return;
    case 'compare': {
      const r = resolveFilterPath(rs, node.path);
      const label = printPath(node.path);
      if (node.value === null) checkNullOp(node.op, label, false);
      else typeLiteral(r.attr.multiValued ? comparedDef(r, label) : (r.sub ?? r.attr), node.op, node.value, label);
    }
  }
}

function valuePathAttr(rs: ResourceSchemas, node: Extract<FilterNode, { kind: 'valuePath' }>) {
  const r = resolveFilterPath(rs, node.path);
  if (r.attr.type !== 'complex' && !r.attr.multiValued) {
    throw new InvalidFilterError(`"${printPath(node.path)}[…]" needs a multi-valued or complex attribute`);
  }
  return r;
}

function evalNode(node: FilterNode, resource: Record<string, unknown>, rs: ResourceSchemas): boolean {
  switch (node.kind) {
    case 'and':
      return evalNode(node.left, resource, rs) && evalNode(node.right, resource, rs);
    case 'or':
      return evalNode(node.left, resource, rs) || evalNode(node.right, resource, rs);
    case 'not':
      return !evalNode(node.filter, resource, rs);
    case 'valuePath': {
      const r = valuePathAttr(rs, node);
      return toElements(attributeValue(resource, r)).some((el) => evalElement(node.filter, el, r.attr));
    }
    case 'present':
    case 'compare': {
      const r = resolveFilterPath(rs, node.path);
      const label = printPath(node.path);
      const raw = attributeValue(resource, r);
      if (r.attr.multiValued) {
        const elements = toElements(raw);
        if (node.kind === 'present' && !r.sub) return elements.length > 0;
        if (node.kind === 'compare' && node.value === null && !r.sub) return checkNullOp(node.op, label, elements.length > 0);
        const def = comparedDef(r, label);
        const values = elements.map((el) => (r.sub || r.attr.type === 'complex' ? getKey(el, def.name) : el));
        return compareMany(node, values, def, label, false);
      }
      const def = r.sub ?? r.attr;
      const value = r.sub ? getKey(raw, r.sub.name) : raw;
      return compareMany(node, [value], def, label, isIdAttribute(r, rs));
    }
  }
}

/**
 * Evaluates a value filter against one element of the multi-valued attribute
 * `parentAttr` (`type eq "work"`, `value eq "x"`): paths are relative to the element.
 */
export function matchesValueFilter(node: FilterNode, element: unknown, parentAttr: AttributeDef): boolean {
  checkElementFilter(node, parentAttr);
  return evalElement(node, element, parentAttr);
}

function evalElement(node: FilterNode, element: unknown, parentAttr: AttributeDef): boolean {
  switch (node.kind) {
    case 'and':
      return evalElement(node.left, element, parentAttr) && evalElement(node.right, element, parentAttr);
    case 'or':
      return evalElement(node.left, element, parentAttr) || evalElement(node.right, element, parentAttr);
    case 'not':
      return !evalElement(node.filter, element, parentAttr);
    case 'valuePath':
      throw new InvalidFilterError(`value path "${printPath(node.path)}[…]" is not allowed inside ${parentAttr.name}[…]`);
    case 'present':
    case 'compare': {
      const def = resolveElementPath(parentAttr, node.path);
      const value = parentAttr.type === 'complex' ? getKey(element, def.name) : element;
      return compareMany(node, [value], def, `${parentAttr.name}.${def.name}`, false);
    }
  }
}

/** Throws InvalidFilterError if the value filter cannot be evaluated on elements of `parent`. */
export function checkElementFilter(node: FilterNode, parent: AttributeDef): void {
  switch (node.kind) {
    case 'and':
    case 'or':
      checkElementFilter(node.left, parent);
      checkElementFilter(node.right, parent);
      return;
    case 'not':
      checkElementFilter(node.filter, parent);
      return;
    case 'valuePath':
      throw new InvalidFilterError(`value path "${printPath(node.path)}[…]" is not allowed inside ${parent.name}[…]`);
    case 'present':
      resolveElementPath(parent, node.path);
      return;
    case 'compare': {
      const def = resolveElementPath(parent, node.path);
      if (node.value !== null) typeLiteral(def, node.op, node.value, `${parent.name}.${def.name}`);
      else checkNullOp(node.op, `${parent.name}.${def.name}`, false);
    }
  }
}

/** The attribute's raw value: core attributes at top level, extension ones under their schema URN. */
function attributeValue(resource: Record<string, unknown>, r: { schema: { id: string }; attr: AttributeDef; isExtension: boolean }): unknown {
  const container = r.isExtension ? getKey(resource, r.schema.id) : resource;
  return getKey(container, r.attr.name);
}

function checkNullOp(op: CompareOp, label: string, present: boolean): boolean {
  if (op === 'eq') return !present;
  if (op === 'ne') return present;
  throw new InvalidFilterError(`"${label} ${op} null": null can only be compared with eq or ne`);
}

/** Any-of semantics over the candidate values; `ne` negates `eq` over all of them. */
function compareMany(
  node: Extract<FilterNode, { kind: 'compare' | 'present' }>,
  values: unknown[],
  def: AttributeDef,
  label: string,
  isId: boolean,
): boolean {
  if (node.kind === 'present') return values.some(isPresent);
  if (node.value === null) return checkNullOp(node.op, label, values.some(isPresent));
  const lit = typeLiteral(def, node.op, node.value, label);
  if (node.op === 'ne') return !values.some((v) => compareOne(v, def, 'eq', lit, isId));
  return values.some((v) => compareOne(v, def, node.op, lit, isId));
}

function compareOne(v: unknown, def: AttributeDef, op: CompareOp, lit: Typed, isId: boolean): boolean {
  switch (lit.t) {
    case 'string': {
      if (typeof v !== 'string') return false;
      // ids are UUIDs: the same id in upper case is the same id (the SQL side compares as uuid).
      const fold = !def.caseExact || (isId && op === 'eq' && UUID_RE.test(lit.v));
      return compareOrdered(fold ? v.toLowerCase() : v, fold ? lit.v.toLowerCase() : lit.v, op);
    }
    case 'boolean':
      return typeof v === 'boolean' && v === lit.v;
    case 'number':
      return typeof v === 'number' && compareOrdered(v, lit.v, op);
    case 'dateTime': {
      const ms = storedDateTime(v);
      return ms !== undefined && compareOrdered(ms, lit.ms, op);
    }
  }
}

function compareOrdered<T extends string | number>(a: T, b: T, op: CompareOp): boolean {
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    case 'co': return (a as string).includes(b as string);
    case 'sw': return (a as string).startsWith(b as string);
    case 'ew': return (a as string).endsWith(b as string);
  }
}
