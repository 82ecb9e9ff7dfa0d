/**
 * SCIM filter AST (RFC 7644 §3.4.2.2).
 * Attribute paths are kept as written but split: `urn` (schema URN or undefined),
 * `attr` (top-level attribute name) and optional `sub` (sub-attribute name).
 */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

export interface AttrPath {
  urn?: string;
  attr: string;
  sub?: string;
}

export type FilterNode =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Literal }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and'; left: FilterNode; right: FilterNode }
  | { kind: 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; filter: FilterNode }
  /** attr[filter]: the inner filter's paths are relative to the multi-valued attribute `path`. */
  | { kind: 'valuePath'; path: AttrPath; filter: FilterNode };
