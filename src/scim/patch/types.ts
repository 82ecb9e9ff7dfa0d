/** Public and internal types of the PATCH engine (RFC 7644 §3.5.2). */
import type { AttributeDef, SchemaDef } from '../schema/types.js';
import type { FilterNode } from '../filter/ast.js';

export interface MemberRef {
  value: string;
  type?: string;
  display?: string;
}

/**
 * Group membership changes. Members live in rows, not in the resource JSON, so the
 * caller executes these in order (as SQL) after the resource itself is saved.
 */
export type MemberOp =
  | { kind: 'add'; members: MemberRef[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'removeAll' }
  | { kind: 'replace'; members: MemberRef[] };

export interface PatchResult {
  resource: Record<string, unknown>;
  changed: boolean;
  memberOps: MemberOp[];
}

export type OpName = 'add' | 'replace' | 'remove';

/** One validated entry of `Operations`. `hasValue` distinguishes absent from null. */
export interface PatchOperation {
  index: number;
  op: OpName;
  path: string | undefined;
  value: unknown;
  hasValue: boolean;
}

/** A resolved path: one attribute (optionally filtered, optionally a sub-attribute). */
export interface AttrTarget {
  kind: 'attr';
  text: string;
  schema: SchemaDef;
  isExtension: boolean;
  attr: AttributeDef;
  filter?: FilterNode;
  sub?: AttributeDef;
}

/** A path that names a whole extension schema (its object under the URN key). */
export interface SchemaTarget {
  kind: 'schema';
  text: string;
  schema: SchemaDef;
  isExtension: boolean;
}

export type Target = AttrTarget | SchemaTarget;
