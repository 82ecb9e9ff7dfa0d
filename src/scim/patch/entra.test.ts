/**
 * Every PATCH body from Microsoft's "Known issues and resolutions with SCIM 2.0 protocol
 * compliance of the Microsoft Entra user provisioning service" and "Tutorial: Develop and
 * plan provisioning for a SCIM endpoint", copied as the docs give them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from './index.js';
import { ENTERPRISE, GROUP_RS, USER_RS, bareUser, entraUser, storedGroup } from './test-helpers.js';

describe('Entra: known-issues article (with and without aadOptscim062020)', () => {
  it('disable user, without feature flag ("Replace", "False")', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "Replace",
          "path": "active",
          "value": "False"
        }
      ]
    };
    const r = applyPatch(entraUser(), body, USER_RS);
    assert.equal(r.resource.active, false);
    assert.equal(r.changed, true);
  });

  it('disable user, with feature flag', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "replace",
          "path": "active",
          "value": false
        }
      ]
    };
    assert.equal(applyPatch(entraUser(), body, USER_RS).resource.active, false);
  });

  it('add a single-value string attribute, without feature flag ("Add")', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "Add",
          "path": "nickName",
          "value": "Babs"
        }
      ]
    };
    assert.equal(applyPatch(entraUser(), body, USER_RS).resource.nickName, 'Babs');
  });

  it('add a single-value string attribute, with feature flag', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [
        {
          "op": "add",
          "path": "nickName",
          "value": "Babs"
        }
      ]
    };
    assert.equal(applyPatch(entraUser(), body, USER_RS).resource.nickName, 'Babs');
  });

  it('replace multiple attributes, without feature flag (one op per attribute)', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "Replace",
          "path": "displayName",
          "value": "Pvlo"
        },
        {
          "op": "Replace",
          "path": "emails[type eq \"work\"].value",
          "value": "TestBcwqnm@test.microsoft.com"
        },
        {
          "op": "Replace",
          "path": "name.givenName",
          "value": "Gtfd"
        },
        {
          "op": "Replace",
          "path": "name.familyName",
          "value": "Pkqf"
        },
        {
          "op": "Replace",
          "path": "externalId",
          "value": "Eqpj"
        },
        {
          "op": "Replace",
          "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
          "value": "Eqpj"
        }
      ]
    };
    const r = applyPatch(entraUser(), body, USER_RS).resource;
    assert.equal(r.displayName, 'Pvlo');
    assert.deepEqual(r.emails, [{ value: 'TestBcwqnm@test.microsoft.com', type: 'work', primary: true }]);
    assert.deepEqual(r.name, { formatted: 'givenName familyName', familyName: 'Pkqf', givenName: 'Gtfd' });
    assert.equal(r.externalId, 'Eqpj');
    assert.deepEqual(r[ENTERPRISE], { employeeNumber: 'Eqpj' });
  });

  it('replace multiple attributes, with feature flag (path-less value of dotted and URN keys)', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "replace",
          "path": "emails[type eq \"work\"].value",
          "value": "TestMhvaes@test.microsoft.com"
        },
        {
          "op": "replace",
          "value": {
            "displayName": "Bjfe",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
          }
        }
      ]
    };
    const r = applyPatch(entraUser(), body, USER_RS).resource;
    assert.equal(r.displayName, 'Bjfe');
    assert.equal((r.emails as { value: string }[])[0]!.value, 'TestMhvaes@test.microsoft.com');
    assert.deepEqual(r.name, { formatted: 'givenName familyName', familyName: 'Unua', givenName: 'Kkom' });
    assert.deepEqual(r[ENTERPRISE], { employeeNumber: 'Aklq' });
  });

  it('remove a group member, without feature flag (path "members" with value: only those ids)', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "Remove",
          "path": "members",
          "value": [
            {
              "value": "u1091"
            }
          ]
        }
      ]
    };
    const r = applyPatch(storedGroup(), body, GROUP_RS);
    assert.deepEqual(r.memberOps, [{ kind: 'remove', ids: ['u1091'] }]);
    assert.deepEqual(r.resource, storedGroup());
    assert.equal(r.changed, true);
  });

  it('remove a group member, with feature flag (members[value eq "…"])', () => {
    const body = {
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ],
      "Operations": [
        {
          "op": "remove",
          "path": "members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"
        }
      ]
    };
    const r = applyPatch(storedGroup(), body, GROUP_RS);
    assert.deepEqual(r.memberOps, [{ kind: 'remove', ids: ['7f4bc1a3-285e-48ae-8202-5accb43efb0e'] }]);
  });
});

describe('Entra: SCIM endpoint tutorial request/response examples', () => {
  it('Update User [Multi-valued properties]', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [
        {
          "op": "Replace",
          "path": "emails[type eq \"work\"].value",
          "value": "updatedEmail@microsoft.com"
        },
        {
          "op": "Replace",
          "path": "name.familyName",
          "value": "updatedFamilyName"
        }
      ]
    };
    const r = applyPatch(entraUser(), body, USER_RS).resource;
    // The documented response (formatted is recomputed there; we keep what was stored).
    assert.deepEqual(r.emails, [{ value: 'updatedEmail@microsoft.com', type: 'work', primary: true }]);
    assert.equal((r.name as Record<string, unknown>).familyName, 'updatedFamilyName');
    assert.equal((r.name as Record<string, unknown>).givenName, 'givenName');
  });

  it('Update User [Single-valued properties]', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
        "op": "Replace",
        "path": "userName",
        "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
      }]
    };
    assert.equal(applyPatch(entraUser(), body, USER_RS).resource.userName, '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');
  });

  it('Disable User (Operations before schemas)', () => {
    const body = {
      "Operations": [
        {
          "op": "Replace",
          "path": "active",
          "value": false
        }
      ],
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ]
    };
    const r = applyPatch(entraUser(), body, USER_RS);
    assert.equal(r.resource.active, false);
    // Retried disable: nothing changes.
    assert.equal(applyPatch(r.resource, body, USER_RS).changed, false);
  });

  it('Update Group [Non-member attributes]', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
        "op": "Replace",
        "path": "displayName",
        "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
      }]
    };
    const r = applyPatch(storedGroup('displayName'), body, GROUP_RS);
    assert.equal(r.resource.displayName, '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName');
    assert.deepEqual(r.memberOps, []);
  });

  it('Update Group [Add Members] ("$ref": null is ignored)', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
        "op": "Add",
        "path": "members",
        "value": [{
          "$ref": null,
          "value": "f648f8d5ea4e4cd38e9c"
        }]
      }]
    };
    const r = applyPatch(storedGroup(), body, GROUP_RS);
    assert.deepEqual(r.memberOps, [{ kind: 'add', members: [{ value: 'f648f8d5ea4e4cd38e9c' }] }]);
    assert.equal(r.resource.members, undefined);
  });

  it('Update Group [Remove Members] (path "members" + value removes only that member)', () => {
    const body = {
      "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{
        "op": "Remove",
        "path": "members",
        "value": [{
          "$ref": null,
          "value": "f648f8d5ea4e4cd38e9c"
        }]
      }]
    };
    assert.deepEqual(applyPatch(storedGroup(), body, GROUP_RS).memberOps, [{ kind: 'remove', ids: ['f648f8d5ea4e4cd38e9c'] }]);
  });

  it('Example 5: Add "manager" (unqualified path, one-element array value)', () => {
    const body = {
      "schemas":
      [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations":
      [
        {
          "op":"Add",
          "path":"manager",
          "value":
            [
              {
                "$ref":"http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "value":"00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}]}]};
    const r = applyPatch(entraUser(), body, USER_RS).resource;
    assert.deepEqual(r[ENTERPRISE], {
      manager: { value: '00aa00aa-bb11-cc22-dd33-44ee44ee44ee', $ref: 'http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee' },
    });
  });
});

describe('Entra: shapes named in the product contract', () => {
  it('manager as a bare id with the URN path, then Remove', () => {
    const set = applyPatch(entraUser(), {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', value: 'mgr-1' }],
    }, USER_RS).resource;
    assert.deepEqual(set[ENTERPRISE], { manager: { value: 'mgr-1' } });
    const moved = applyPatch(set, {
      Operations: [{ op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', value: 'mgr-2' }],
    }, USER_RS).resource;
    assert.deepEqual(moved[ENTERPRISE], { manager: { value: 'mgr-2' } });
    const removed = applyPatch(set, {
      Operations: [{ op: 'Remove', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager' }],
    }, USER_RS);
    assert.equal(removed.resource[ENTERPRISE], undefined);
    assert.ok(!(removed.resource.schemas as string[]).includes(ENTERPRISE));
    // Removing it again is a no-op (IdP retries).
    assert.equal(applyPatch(removed.resource, {
      Operations: [{ op: 'Remove', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager' }],
    }, USER_RS).changed, false);
  });

  it('Replace without path whose keys are dotted, URN and filtered paths, on a user with no e-mails yet', () => {
    const r = applyPatch(bareUser(), {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{
        op: 'Replace',
        value: {
          'name.givenName': 'A',
          'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': '7',
          'emails[type eq "work"].value': 'a@x',
        },
      }],
    }, USER_RS).resource;
    assert.deepEqual(r.name, { givenName: 'A' });
    assert.deepEqual(r[ENTERPRISE], { employeeNumber: '7' });
    assert.deepEqual(r.emails, [{ value: 'a@x', type: 'work' }]);
  });

  it('filtered paths on arrays that do not exist yet (Add and Replace)', () => {
    const r = applyPatch(bareUser(), {
      Operations: [
        { op: 'Add', path: 'addresses[type eq "work"].streetAddress', value: '1 Main St' },
        { op: 'Replace', path: 'addresses[type eq "work"].postalCode', value: '12345' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' },
        { op: 'Replace', path: 'phoneNumbers[type eq "fax"].value', value: '+1 555 0101' },
      ],
    }, USER_RS).resource;
    assert.deepEqual(r.addresses, [{ streetAddress: '1 Main St', postalCode: '12345', type: 'work' }]);
    assert.deepEqual(r.phoneNumbers, [{ value: '+1 555 0100', type: 'mobile' }, { value: '+1 555 0101', type: 'fax' }]);
  });

  it('"emails[type eq \\"other\\"].Value" (capitalised sub-attribute, as in the attribute table)', () => {
    const r = applyPatch(entraUser(), {
      Operations: [{ op: 'Add', path: 'emails[type eq "other"].Value', value: 'proxy@x' }],
    }, USER_RS).resource;
    assert.equal((r.emails as unknown[]).length, 2);
    assert.deepEqual((r.emails as unknown[])[1], { value: 'proxy@x', type: 'other' });
  });

  it('empty Operations is tolerated and changes nothing', () => {
    const u = entraUser();
    const r = applyPatch(u, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] }, USER_RS);
    assert.equal(r.changed, false);
    assert.deepEqual(r.memberOps, []);
    assert.deepEqual(r.resource, u);
  });

  it('PATCH active "False" as a path-less value too', () => {
    const r = applyPatch(entraUser(), { Operations: [{ op: 'Replace', value: { active: 'False' } }] }, USER_RS);
    assert.equal(r.resource.active, false);
  });
});
