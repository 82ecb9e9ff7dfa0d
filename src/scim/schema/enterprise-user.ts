/** RFC 7643 §4.3 / §8.7.1: the Enterprise User extension. */
import { attr, deepFreeze } from './common.js';
import type { SchemaDef } from './types.js';

export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export const ENTERPRISE_USER_SCHEMA_DEF: SchemaDef = deepFreeze({
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'string', { description: 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.' }),
    attr('costCenter', 'string', { description: 'Identifies the name of a cost center.' }),
    attr('organization', 'string', { description: 'Identifies the name of an organization.' }),
    attr('division', 'string', { description: 'Identifies the name of a division.' }),
    attr('department', 'string', { description: 'Identifies the name of a department.' }),
    attr('manager', 'complex', {
      description: "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
      subAttributes: [
        attr('value', 'string', { description: 'The id of the SCIM resource representing the User\'s manager.' }),
        attr('$ref', 'reference', { description: "The URI of the SCIM resource representing the User's manager.", referenceTypes: ['User'] }),
        attr('displayName', 'string', { description: "The displayName of the User's manager. OPTIONAL and READ-ONLY.", mutability: 'readOnly' }),
      ],
    }),
  ],
});
