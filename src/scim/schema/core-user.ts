/** RFC 7643 §4.1 / §8.7.1: the core User schema. */
import { attr, deepFreeze, multiValuedComplex, primarySub } from './common.js';
import type { SchemaDef } from './types.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

const nameSub = (name: string, description: string) => attr(name, 'string', { description });

export const CORE_USER_SCHEMA: SchemaDef = deepFreeze({
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', 'string', {
      description:
        "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', {
      description: "The components of the user's real name.",
      subAttributes: [
        nameSub('formatted', "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
        nameSub('familyName', 'The family name of the User, or last name in most Western languages.'),
        nameSub('givenName', 'The given name of the User, or first name in most Western languages.'),
        nameSub('middleName', 'The middle name(s) of the User.'),
        nameSub('honorificPrefix', 'The honorific prefix(es) of the User, or title in most Western languages.'),
        nameSub('honorificSuffix', 'The honorific suffix(es) of the User, or suffix in most Western languages.'),
      ],
    }),
    attr('displayName', 'string', { description: 'The name of the User, suitable for display to end-users.' }),
    attr('nickName', 'string', { description: "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'." }),
    attr('profileUrl', 'reference', { description: "A fully qualified URL pointing to a page representing the User's online profile.", referenceTypes: ['external'] }),
    attr('title', 'string', { description: 'The user\'s title, such as "Vice President."' }),
    attr('userType', 'string', { description: 'Used to identify the relationship between the organization and the user.' }),
    attr('preferredLanguage', 'string', { description: "Indicates the User's preferred written or spoken language." }),
    attr('locale', 'string', { description: "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations." }),
    attr('timezone', 'string', { description: "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'." }),
    attr('active', 'boolean', { description: "A Boolean value indicating the User's administrative status." }),
    attr('password', 'string', {
      description: "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.",
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValuedComplex('emails', "Email addresses for the user. Canonical type values of 'work', 'home', and 'other'.",
      attr('value', 'string', { description: 'Email addresses for the user.' }), ['work', 'home', 'other'], 'mailing address or primary email address'),
    multiValuedComplex('phoneNumbers', "Phone numbers for the User. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
      attr('value', 'string', { description: 'Phone number of the User.' }), ['work', 'home', 'mobile', 'fax', 'pager', 'other'], 'phone number or primary phone number'),
    multiValuedComplex('ims', 'Instant messaging addresses for the User.',
      attr('value', 'string', { description: 'Instant messaging address for the User.' }), ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'], 'messenger or primary messenger'),
    multiValuedComplex('photos', 'URLs of photos of the User.',
      attr('value', 'reference', { description: 'URL of a photo of the User.', referenceTypes: ['external'] }), ['photo', 'thumbnail'], 'photo or thumbnail'),
    attr('addresses', 'complex', {
      multiValued: true,
      description: "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.",
      subAttributes: [
        attr('formatted', 'string', { description: 'The full mailing address, formatted for display or use with a mailing label.' }),
        attr('streetAddress', 'string', { description: 'The full street address component.' }),
        attr('locality', 'string', { description: 'The city or locality component.' }),
        attr('region', 'string', { description: 'The state or region component.' }),
        attr('postalCode', 'string', { description: 'The zip code or postal code component.' }),
        attr('country', 'string', { description: 'The country name component.' }),
        attr('type', 'string', { description: "A label indicating the attribute's function, e.g., 'work' or 'home'.", canonicalValues: ['work', 'home', 'other'] }),
        // §8.7.1 omits it, but §4.1.2 and §2.4 give addresses a primary flag.
        primarySub('mailing address'),
      ],
    }),
    attr('groups', 'complex', {
      multiValued: true,
      description: 'A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.',
      mutability: 'readOnly',
      subAttributes: [
        attr('value', 'string', { description: "The identifier of the User's group.", mutability: 'readOnly' }),
        attr('$ref', 'reference', { description: "The URI of the corresponding 'Group' resource to which the user belongs.", referenceTypes: ['User', 'Group'], mutability: 'readOnly' }),
        attr('display', 'string', { description: 'A human-readable name, primarily used for display purposes. READ-ONLY.', mutability: 'readOnly' }),
        attr('type', 'string', { description: "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
      ],
    }),
    multiValuedComplex('entitlements', 'A list of entitlements for the User that represent a thing the User has.',
      attr('value', 'string', { description: 'The value of an entitlement.' }), undefined, 'entitlement'),
    multiValuedComplex('roles', "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
      attr('value', 'string', { description: 'The value of a role.' }), undefined, 'role'),
    multiValuedComplex('x509Certificates', 'A list of certificates issued to the User.',
      attr('value', 'binary', { description: 'The value of an X.509 certificate.' }), undefined, 'certificate'),
  ],
});
