/** RFC 7643 §7 attribute and schema definitions, used for validation, filtering, PATCH, projection and /Schemas. */
export type AttributeType =
  | 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  /**
   * Reject values outside `canonicalValues` (tenant extension attributes only; the
   * RFC's own canonical values are suggestions that IdPs do not always follow).
   */
  strictCanonicalValues?: boolean;
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
  /**
   * Open schema: any attribute name is accepted as a single-valued string
   * (used for `urn:ietf:params:scim:schemas:extension:2.0:Metadata:<key>`).
   */
  open?: boolean;
}

export type ResourceTypeName = 'User' | 'Group';

/**
 * The schemas that apply to one resource type for one tenant: the core schema
 * plus extensions (enterprise User, tenant-defined ones).
 */
export interface ResourceSchemas {
  resourceType: ResourceTypeName;
  core: SchemaDef;
  extensions: SchemaDef[];
}
