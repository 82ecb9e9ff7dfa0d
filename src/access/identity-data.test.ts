import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkUserType, grantValuesOf, metadataOf, rolesOf, userTypeOf } from './identity-data.js';
import { ScimError } from '../scim/errors.js';

const FOLDERS = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders';
const EXT = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName';

describe('grantValuesOf', () => {
  it('splits comma-separated strings, trims, drops empties, dedupes, keeps order', () => {
    assert.deepEqual(grantValuesOf({ [EXT]: { folders: ['a, b', ' c ', 'a', ',,', 'd,e'] } }, FOLDERS), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(grantValuesOf({ [EXT]: { folders: 'Folder 1, Folder 2' } }, FOLDERS), ['Folder 1', 'Folder 2']);
  });
  it('matches schema and attribute names case-insensitively; absent → []', () => {
    assert.deepEqual(grantValuesOf({ [EXT.toLowerCase()]: { FOLDERS: ['x'] } }, FOLDERS), ['x']);
    assert.deepEqual(grantValuesOf({}, FOLDERS), []);
    assert.deepEqual(grantValuesOf({ [EXT]: {} }, FOLDERS), []);
  });
  it('accepts {value} objects and a core attribute', () => {
    assert.deepEqual(grantValuesOf({ [EXT]: { folders: [{ value: 'v1' }] } }, FOLDERS), ['v1']);
    assert.deepEqual(grantValuesOf({ title: 'a,b' }, 'urn:ietf:params:scim:schemas:core:2.0:User:title'), ['a', 'b']);
  });
  it('refuses absurd sizes with invalidValue', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `v${i}`).join(',');
    assert.throws(() => grantValuesOf({ [EXT]: { folders: many } }, FOLDERS), (e: ScimError) => e.scimType === 'invalidValue');
    assert.throws(() => grantValuesOf({ [EXT]: { folders: 'x'.repeat(501) } }, FOLDERS), (e: ScimError) => e.scimType === 'invalidValue');
  });
});

describe('roles, userType, metadata', () => {
  it('reads roles[].value, deduplicated', () => {
    assert.deepEqual(rolesOf({ roles: [{ value: 'Admin', primary: true }, { value: 'User' }, { value: 'Admin' }, 'ReadOnly'] }), ['Admin', 'User', 'ReadOnly']);
    assert.deepEqual(rolesOf({}), []);
  });
  it('reads userType and the Metadata map as strings', () => {
    assert.equal(userTypeOf({ userType: 'Premium' }), 'Premium');
    assert.equal(userTypeOf({}), undefined);
    assert.deepEqual(metadataOf({ 'urn:ietf:params:scim:schemas:extension:2.0:Metadata': { a: '1', b: 2, c: true, d: null } }), { a: '1', b: '2', c: 'true' });
  });
  it('checkUserType: exact match against a non-empty allow-list, message names the allowed values', () => {
    const s = { userTypeAllowList: ['Premium', 'Standard'] };
    checkUserType(s, { userType: 'Premium' });
    checkUserType(s, {});
    checkUserType({ userTypeAllowList: [] }, { userType: 'Anything' });
    assert.throws(() => checkUserType(s, { userType: 'premium' }), (e: ScimError) =>
      e.status === 400 && e.scimType === 'invalidValue' && /"Premium", "Standard"/.test(e.message));
  });
});
