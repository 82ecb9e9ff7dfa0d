/** RFC 7644 §3.5.2 add / replace / remove semantics and error responses. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from './index.js';
import { ENTERPRISE, USER_RS, assertScimError, bareUser, entraUser } from './test-helpers.js';
import type { ResourceSchemas } from '../schema/types.js';

const patch = (resource: Record<string, unknown>, ...Operations: unknown[]) =>
  applyPatch(resource, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations }, USER_RS);

function twoEmails(): Record<string, unknown> {
  return patch(bareUser(), { op: 'add', path: 'emails', value: [
    { value: 'w@x', type: 'work', primary: true }, { value: 'h@x', type: 'home' },
  ] }).resource;
}

describe('message validation', () => {
  it('refuses a body that is not an object, or has no Operations array (invalidSyntax)', () => {
    assertScimError(() => applyPatch(bareUser(), null, USER_RS), 400, 'invalidSyntax', /JSON object/);
    assertScimError(() => applyPatch(bareUser(), [], USER_RS), 400, 'invalidSyntax', /Operations/);
    assertScimError(() => applyPatch(bareUser(), { schemas: [] }, USER_RS), 400, 'invalidSyntax', /no "Operations"/);
    assertScimError(() => applyPatch(bareUser(), { Operations: {} }, USER_RS), 400, 'invalidSyntax', /must be an array/);
    assertScimError(() => applyPatch(bareUser(), { Operations: ['x'] }, USER_RS), 400, 'invalidSyntax', /Operations\[0\]/);
  });

  it('names an unsupported op (invalidSyntax)', () => {
    assertScimError(() => patch(bareUser(), { op: 'move', path: 'nickName' }), 400, 'invalidSyntax', /"move"/);
    assertScimError(() => patch(bareUser(), { path: 'nickName', value: 'x' }), 400, 'invalidSyntax', /no "op"/);
  });

  it('accepts ops in any case, no schemas, and ignores unknown fields', () => {
    const r = applyPatch(bareUser(), { Operations: [{ op: 'ADD', path: 'nickName', value: 'n', extra: 1 }] }, USER_RS);
    assert.equal(r.resource.nickName, 'n');
  });

  it('add/replace without value is invalidValue; remove without path is noTarget', () => {
    assertScimError(() => patch(bareUser(), { op: 'add', path: 'nickName' }), 400, 'invalidValue', /requires a "value"/);
    assertScimError(() => patch(bareUser(), { op: 'remove' }), 400, 'noTarget', /requires a "path"/);
    assertScimError(() => patch(bareUser(), { op: 'replace', value: 'x' }), 400, 'invalidValue', /object of attributes/);
  });

  it('is atomic and never mutates its input', () => {
    const u = entraUser();
    const copy = structuredClone(u);
    assertScimError(() => patch(u, { op: 'replace', path: 'nickName', value: 'n' }, { op: 'replace', path: 'nope', value: 1 }), 400, 'invalidPath');
    patch(u, { op: 'replace', path: 'nickName', value: 'n' }, { op: 'remove', path: 'emails' });
    assert.deepEqual(u, copy);
  });
});

describe('add', () => {
  it('sets simple, sub- and URN-qualified attributes', () => {
    const r = patch(bareUser(),
      { op: 'add', path: 'title', value: 'Eng' },
      { op: 'add', path: 'name.familyName', value: 'Jensen' },
      { op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:nickName', value: 'Babs' },
      { op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName', value: 'Barbara' },
      { op: 'add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'R&D' },
    ).resource;
    assert.equal(r.title, 'Eng');
    assert.equal(r.nickName, 'Babs');
    assert.deepEqual(r.name, { familyName: 'Jensen', givenName: 'Barbara' });
    assert.deepEqual(r[ENTERPRISE], { department: 'R&D' });
    assert.ok((r.schemas as string[]).includes(ENTERPRISE));
  });

  it('appends to multi-valued attributes, de-duplicating identical values', () => {
    const u = twoEmails();
    const r = patch(u, { op: 'add', path: 'emails', value: [{ value: 'h@x', type: 'home' }, { value: 'o@x', type: 'other' }] });
    assert.deepEqual(r.resource.emails, [
      { value: 'w@x', type: 'work', primary: true }, { value: 'h@x', type: 'home' }, { value: 'o@x', type: 'other' },
    ]);
    const same = patch(u, { op: 'add', path: 'emails', value: { value: 'h@x', type: 'home' } });
    assert.equal(same.changed, false);
  });

  it('merges a complex value into the existing one; path-less add merges too', () => {
    const r = patch(entraUser(), { op: 'add', path: 'name', value: { middleName: 'M' } }).resource;
    assert.deepEqual(r.name, { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName', middleName: 'M' });
    const p = patch(entraUser(), { op: 'add', value: { name: { honorificPrefix: 'Dr' }, nickName: 'N' } }).resource;
    assert.equal((p.name as Record<string, unknown>).honorificPrefix, 'Dr');
    assert.equal((p.name as Record<string, unknown>).givenName, 'givenName');
  });

  it('a path-less whole-extension key merges that object', () => {
    const r = patch(bareUser(),
      { op: 'add', value: { [ENTERPRISE]: { department: 'D', manager: { value: 'm' } } } },
      { op: 'add', value: { [ENTERPRISE]: { costCenter: 'C' } } },
    ).resource;
    assert.deepEqual(r[ENTERPRISE], { costCenter: 'C', department: 'D', manager: { value: 'm' } });
  });

  it('a value setting primary=true clears primary on the others', () => {
    const r = patch(twoEmails(), { op: 'replace', path: 'emails[type eq "home"].primary', value: true }).resource;
    assert.deepEqual(r.emails, [{ value: 'w@x', type: 'work', primary: false }, { value: 'h@x', type: 'home', primary: true }]);
  });

  it('coerces "True"/"False" strings for booleans', () => {
    assert.equal(patch(bareUser(), { op: 'Add', path: 'active', value: 'False' }).resource.active, false);
    assert.deepEqual(patch(bareUser(), { op: 'Replace', path: 'emails[type eq "work"].primary', value: 'True' }).resource.emails,
      [{ type: 'work', primary: true }]);
  });
});

describe('replace', () => {
  it('replaces a whole multi-valued attribute', () => {
    const r = patch(twoEmails(), { op: 'replace', path: 'emails', value: [{ value: 'n@x', type: 'work' }] }).resource;
    assert.deepEqual(r.emails, [{ value: 'n@x', type: 'work' }]);
  });

  it('replaces the sub-attribute of every matching element', () => {
    const u = patch(bareUser(), { op: 'add', path: 'addresses', value: [
      { type: 'work', streetAddress: 'old', locality: 'L' }, { type: 'home', streetAddress: 'home st' },
    ] }).resource;
    const r = patch(u, { op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '100 Universal City Plaza' }).resource;
    assert.deepEqual(r.addresses, [
      { streetAddress: '100 Universal City Plaza', locality: 'L', type: 'work' }, { streetAddress: 'home st', type: 'home' },
    ]);
  });

  it('replaces matching elements, keeping the filter terms', () => {
    const r = patch(twoEmails(), { op: 'replace', path: 'emails[type eq "home"]', value: { value: 'h2@x' } }).resource;
    assert.deepEqual(r.emails, [{ value: 'w@x', type: 'work', primary: true }, { value: 'h2@x', type: 'home' }]);
  });

  it('no match for a filter that is not eq-conjunctions is noTarget', () => {
    assertScimError(() => patch(twoEmails(), { op: 'replace', path: 'emails[value co "zzz"].type', value: 'x' }), 400, 'noTarget', /no value matches/);
    assertScimError(() => patch(twoEmails(), { op: 'replace', path: 'emails[type eq "a" or type eq "b"].value', value: 'x' }), 400, 'noTarget');
  });

  it('replace with null unassigns (RFC 7643 §2.5)', () => {
    const r = patch(entraUser(), { op: 'replace', path: 'name', value: null }).resource;
    assert.equal(r.name, undefined);
  });

  it('changing a reference value drops its stale sub-attributes', () => {
    const u = patch(bareUser(), { op: 'add', path: 'manager', value: { value: 'a', $ref: '../Users/a' } }).resource;
    const r = patch(u, { op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: 'b' } }).resource;
    assert.deepEqual(r[ENTERPRISE], { manager: { value: 'b' } });
  });
});

describe('remove', () => {
  it('removes simple and sub-attributes; an emptied complex attribute is unassigned', () => {
    const u = patch(bareUser(), { op: 'add', path: 'name', value: { givenName: 'G' } }, { op: 'add', path: 'title', value: 'T' }).resource;
    const r = patch(u, { op: 'remove', path: 'title' }, { op: 'remove', path: 'name.givenName' }).resource;
    assert.equal(r.title, undefined);
    assert.equal(r.name, undefined);
  });

  it('removes matching elements; the attribute is unassigned when none remain', () => {
    const one = patch(twoEmails(), { op: 'remove', path: 'emails[type eq "work"]' }).resource;
    assert.deepEqual(one.emails, [{ value: 'h@x', type: 'home' }]);
    const none = patch(one, { op: 'remove', path: 'emails[type eq "home"]' }).resource;
    assert.equal(none.emails, undefined);
  });

  it('removes the sub-attribute of matching elements', () => {
    const r = patch(twoEmails(), { op: 'remove', path: 'emails[type eq "work"].primary' }).resource;
    assert.deepEqual(r.emails, [{ value: 'w@x', type: 'work' }, { value: 'h@x', type: 'home' }]);
  });

  it('a remove with values removes only those values', () => {
    const r = patch(twoEmails(), { op: 'remove', path: 'emails', value: [{ value: 'h@x' }] }).resource;
    assert.deepEqual(r.emails, [{ value: 'w@x', type: 'work', primary: true }]);
  });

  it('is a no-op when the attribute or a matching value is missing (idempotent retries)', () => {
    const u = twoEmails();
    for (const path of ['nickName', 'name.givenName', 'emails[type eq "other"]', 'addresses', `${ENTERPRISE}:manager`, ENTERPRISE]) {
      const r = patch(u, { op: 'remove', path });
      assert.equal(r.changed, false, path);
      assert.deepEqual(r.resource, u, path);
    }
  });

  it('removes a whole extension by its URN', () => {
    const u = patch(bareUser(), { op: 'add', path: `${ENTERPRISE}:department`, value: 'D' }).resource;
    const r = patch(u, { op: 'remove', path: ENTERPRISE }).resource;
    assert.equal(r[ENTERPRISE], undefined);
    assert.deepEqual(r.schemas, ['urn:ietf:params:scim:schemas:core:2.0:User']);
  });
});

describe('errors', () => {
  it('readOnly targets are mutability errors naming the attribute', () => {
    for (const [path, name] of [['id', 'id'], ['meta', 'meta'], ['meta.created', 'meta'], ['groups', 'groups'], [`${ENTERPRISE}:manager.displayName`, 'displayName']] as const) {
      assertScimError(() => patch(bareUser(), { op: 'replace', path, value: 'x' }), 400, 'mutability', new RegExp(`"${name.replace('.', '\\.')}" is readOnly`));
      assertScimError(() => patch(bareUser(), { op: 'remove', path }), 400, 'mutability');
    }
  });

  it('readOnly keys in a path-less value are ignored', () => {
    const u = bareUser();
    const r = patch(u, { op: 'replace', value: { id: 'x', meta: { created: '2020-01-01T00:00:00Z' }, groups: [{ value: 'g' }], schemas: ['x'] } });
    assert.equal(r.changed, false);
  });

  it('removing a required attribute is a mutability error', () => {
    assertScimError(() => patch(bareUser(), { op: 'remove', path: 'userName' }), 400, 'mutability', /userName/);
    assertScimError(() => patch(bareUser(), { op: 'replace', path: 'userName', value: null }), 400, 'mutability', /userName/);
  });

  it('immutable attributes may be added when unassigned, never changed', () => {
    const ext = {
      id: 'urn:ietf:params:scim:schemas:extension:2.0:Test', name: 'Test', description: '',
      attributes: [{ name: 'badge', type: 'string', multiValued: false, description: '', required: false, caseExact: true,
        mutability: 'immutable', returned: 'default', uniqueness: 'none' }],
    } as const;
    const rs: ResourceSchemas = { ...USER_RS, extensions: [...USER_RS.extensions, ext as never] };
    const run = (res: Record<string, unknown>, op: unknown) => applyPatch(res, { Operations: [op] }, rs);
    const added = run(bareUser(), { op: 'add', path: `${ext.id}:badge`, value: 'B1' }).resource;
    assert.deepEqual(added[ext.id], { badge: 'B1' });
    assert.equal(run(added, { op: 'add', path: `${ext.id}:badge`, value: 'B1' }).changed, false);
    assertScimError(() => run(added, { op: 'replace', path: `${ext.id}:badge`, value: 'B2' }), 400, 'mutability', /badge" is immutable/);
    assertScimError(() => run(added, { op: 'remove', path: `${ext.id}:badge` }), 400, 'mutability');
  });

  it('unknown paths are invalidPath naming them', () => {
    assertScimError(() => patch(bareUser(), { op: 'add', path: 'shoeSize', value: 1 }), 400, 'invalidPath', /"shoeSize"/);
    assertScimError(() => patch(bareUser(), { op: 'add', value: { shoeSize: 1 } }), 400, 'invalidPath', /"shoeSize"/);
    assertScimError(() => patch(bareUser(), { op: 'remove', path: 'name.nope' }), 400, 'invalidPath', /nope/);
    assertScimError(() => patch(bareUser(), { op: 'remove', path: 'urn:example:nope:attr' }), 400, 'invalidPath');
    assertScimError(() => patch(bareUser(), { op: 'remove', path: 'emails[type eq' }), 400, 'invalidPath');
  });

  it('a sub-attribute of a non-complex attribute, or a filter on a single-valued one, is invalidPath', () => {
    assertScimError(() => patch(bareUser(), { op: 'replace', path: 'active.value', value: true }), 400, 'invalidPath', /not complex/);
    assertScimError(() => patch(bareUser(), { op: 'replace', path: 'name[givenName eq "a"].familyName', value: 'x' }), 400, 'invalidPath', /single-valued/);
  });

  it('bad value types are invalidValue', () => {
    assertScimError(() => patch(bareUser(), { op: 'replace', path: 'active', value: 'maybe' }), 400, 'invalidValue', /active/);
    assertScimError(() => patch(bareUser(), { op: 'replace', path: 'name', value: ['a', 'b'] }), 400, 'invalidValue');
    assertScimError(() => patch(bareUser(), { op: 'replace', value: { active: 3 } }), 400, 'invalidValue');
  });
});

describe('multi-valued simple attributes (dataset grants)', () => {
  it('add appends, remove by filter or by value removes only those', () => {
    const F = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders';
    const u = patch(bareUser(), { op: 'add', path: F, value: ['d1', 'd2'] }, { op: 'add', path: F, value: 'd3' }, { op: 'add', path: F, value: 'd1' }).resource;
    const ext = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName';
    assert.deepEqual(u[ext], { folders: ['d1', 'd2', 'd3'] });
    const r = patch(u, { op: 'remove', path: `${F}[value eq "d1"]` }, { op: 'remove', path: F, value: ['d3'] }).resource;
    assert.deepEqual(r[ext], { folders: ['d2'] });
  });
});
