/** Every PATCH body from Okta's "SCIM 2.0 Protocol Reference", copied as the docs give them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from './index.js';
import { GROUP_RS, USER_RS, storedGroup } from './test-helpers.js';
import { normalizeResource } from '../schema/validate.js';

function oktaUser(): Record<string, unknown> {
  // The user Okta's reference creates (password is hashed away by the store).
  return normalizeResource(USER_RS, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'test.user@okta.local',
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    groups: [],
    active: true,
  }, 'create');
}

describe('Okta: users', () => {
  it('deactivate: replace with a path-less {"active": false}', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
        "op": "replace",
        "value": {
          "active": false
        }
      }]
    };
    const before = oktaUser();
    const r = applyPatch(before, body, USER_RS);
    assert.equal(r.resource.active, false);
    assert.equal(r.changed, true);
    assert.deepEqual({ ...r.resource, active: true }, before);
  });
});

describe('Okta: groups', () => {
  it('rename: path-less replace carrying the (read-only) id', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
        "op": "replace",
        "value": {
          "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
          "displayName": "Test SCIMv2"
        }
      }]
    };
    const renamed = applyPatch(storedGroup('Old name'), body, GROUP_RS);
    assert.equal(renamed.resource.displayName, 'Test SCIMv2');
    assert.equal(renamed.resource.id, undefined);
    assert.equal(renamed.changed, true);
    // Okta re-sends the rename with every membership update: unchanged is unchanged.
    const again = applyPatch(renamed.resource, body, GROUP_RS);
    assert.equal(again.changed, false);
  });

  it('membership update: remove members[value eq], then add members', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
            "op": "remove",
            "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"
          },
          {
            "op": "add",
            "path": "members",
            "value": [{
                "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                "display": "test.user@okta.local"
          }]
      }]
    };
    const r = applyPatch(storedGroup(), body, GROUP_RS);
    assert.deepEqual(r.memberOps, [
      { kind: 'remove', ids: ['89bb1940-b905-4575-9e7f-6f887cfb368e'] },
      { kind: 'add', members: [{ value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', display: 'test.user@okta.local' }] },
    ]);
    assert.deepEqual(r.resource, storedGroup());
    assert.equal(r.changed, true);
  });

  it('full membership push: replace members', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "replace",
          "path": "members",
          "value": [
            {
              "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
              "display": "test.user@okta.local"
            },
            {
              "value": "89bb1940-b905-4575-9e7f-6f887cfb368e",
              "display": "test.user@okta.local"
            }
          ]
        }
      ]
    };
    assert.deepEqual(applyPatch(storedGroup(), body, GROUP_RS).memberOps, [{
      kind: 'replace',
      members: [
        { value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', display: 'test.user@okta.local' },
        { value: '89bb1940-b905-4575-9e7f-6f887cfb368e', display: 'test.user@okta.local' },
      ],
    }]);
  });
});
