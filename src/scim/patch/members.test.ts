/** Group `members`: never in the resource JSON, returned as ordered MemberOps. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from './index.js';
import { GROUP_RS, USER_RS, assertScimError, bareUser, storedGroup } from './test-helpers.js';

const patch = (...Operations: unknown[]) => applyPatch(storedGroup(), { Operations }, GROUP_RS);

describe('group members', () => {
  it('keeps every operation, in order, without collapsing', () => {
    const r = patch(
      { op: 'add', path: 'members', value: [{ value: 'a', type: 'User' }, { value: 'b', display: 'B' }] },
      { op: 'remove', path: 'members[value eq "a"]' },
      { op: 'add', path: 'members', value: [{ value: 'a' }] },
      { op: 'remove', path: 'members' },
      { op: 'replace', path: 'members', value: [{ value: 'c' }] },
    );
    assert.deepEqual(r.memberOps, [
      { kind: 'add', members: [{ value: 'a', type: 'User' }, { value: 'b', display: 'B' }] },
      { kind: 'remove', ids: ['a'] },
      { kind: 'add', members: [{ value: 'a' }] },
      { kind: 'removeAll' },
      { kind: 'replace', members: [{ value: 'c' }] },
    ]);
    assert.equal(r.resource.members, undefined);
    assert.equal(r.changed, true);
  });

  it('or-chains of value eq remove each id', () => {
    const r = patch({ op: 'remove', path: 'members[value eq "a" or value eq "b" or Value EQ "c"]' });
    assert.deepEqual(r.memberOps, [{ kind: 'remove', ids: ['a', 'b', 'c'] }]);
  });

  it('path "members" with value removes only those ids; with null or no value removes all', () => {
    assert.deepEqual(patch({ op: 'Remove', path: 'members', value: [{ value: 'a' }, { value: 'b' }] }).memberOps,
      [{ kind: 'remove', ids: ['a', 'b'] }]);
    assert.deepEqual(patch({ op: 'remove', path: 'members', value: null }).memberOps, [{ kind: 'removeAll' }]);
    assert.deepEqual(patch({ op: 'remove', path: 'members', value: [] }).memberOps, []);
    assert.deepEqual(patch({ op: 'replace', path: 'members', value: [] }).memberOps, [{ kind: 'replace', members: [] }]);
  });

  it('path-less add/replace with a members key, alongside displayName', () => {
    const r = patch(
      { op: 'add', value: { members: [{ value: 'a' }] } },
      { op: 'replace', value: { displayName: 'New', members: [{ value: 'b' }] } },
    );
    assert.deepEqual(r.memberOps, [{ kind: 'add', members: [{ value: 'a' }] }, { kind: 'replace', members: [{ value: 'b' }] }]);
    assert.equal(r.resource.displayName, 'New');
    assert.equal(r.resource.members, undefined);
  });

  it('member values must be non-empty strings (invalidValue)', () => {
    for (const value of [[{ value: '' }], [{ value: 3 }], [{ display: 'x' }], [42], [{ value: 'a', type: 1 }], ['  ']]) {
      assertScimError(() => patch({ op: 'add', path: 'members', value }), 400, 'invalidValue', /member/);
    }
    assertScimError(() => patch({ op: 'remove', path: 'members', value: [{ value: null }] }), 400, 'invalidValue');
  });

  it('member filters other than value eq are refused for removal (invalidFilter)', () => {
    for (const path of ['members[type eq "User"]', 'members[value ne "a"]', 'members[value eq "a" and type eq "User"]', 'members[value pr]']) {
      assertScimError(() => patch({ op: 'remove', path }), 400, 'invalidFilter', /not supported for removal/);
    }
    assertScimError(() => patch({ op: 'replace', path: 'members[value eq "a"]', value: { value: 'b' } }), 400, 'invalidFilter');
    assertScimError(() => patch({ op: 'replace', path: 'members[value eq "a"].display', value: 'b' }), 400, 'invalidPath');
  });

  it('members is not a User attribute', () => {
    assertScimError(() => applyPatch(bareUser(), { Operations: [{ op: 'add', path: 'members', value: [{ value: 'a' }] }] }, USER_RS), 400, 'invalidPath', /members/);
  });

  it('group core URN paths work, and displayName is required', () => {
    const r = patch({ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:Group:displayName', value: 'X' },
      { op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:Group:members', value: { value: 'u' } });
    assert.equal(r.resource.displayName, 'X');
    assert.deepEqual(r.memberOps, [{ kind: 'add', members: [{ value: 'u' }] }]);
    assertScimError(() => patch({ op: 'remove', path: 'displayName' }), 400, 'mutability');
  });
});
