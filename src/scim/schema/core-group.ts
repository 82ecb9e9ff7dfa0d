/** RFC 7643 §4.2 / §8.7.1: the core Group schema. */
import { attr, deepFreeze } from './common.js';
import type { SchemaDef } from './types.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

export const CORE_GROUP_SCHEMA: SchemaDef = deepFreeze({
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    // §8.7.1 prints required=false, but §4.2 says displayName is REQUIRED; access groups link by it.
    attr('displayName', 'string', { description: 'A human-readable name for the Group. REQUIRED.', required: true }),
    attr('members', 'complex', {
      multiValued: true,
      description: 'A list of members of the Group.',
      subAttributes: [
        attr('value', 'string', { description: 'Identifier of the member of this Group.', mutability: 'immutable' }),
        attr('$ref', 'reference', { description: 'The URI corresponding to a SCIM resource that is a member of this Group.', referenceTypes: ['User', 'Group'], mutability: 'immutable' }),
        attr('type', 'string', { description: 'A label indicating the type of resource, e.g., \'User\' or \'Group\'.', canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
        // Not in §8.7.1, but Okta and Entra send it and RFC 7644 examples return it.
        attr('display', 'string', { description: 'A human-readable name for the member.', mutability: 'immutable' }),
      ],
    }),
  ],
});
