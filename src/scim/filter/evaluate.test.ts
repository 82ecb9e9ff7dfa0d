import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidFilterError } from '../errors.js';
import { findAttr } from '../schema/common.js';
import { buildResourceSchemas } from '../schema/registry.js';
import type { AttributeDef } from '../schema/types.js';
import { matchesFilter, matchesValueFilter } from './evaluate.js';
import { parseFilter, parsePatchPath } from './parse.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CUSTOM = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName';
const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
const rs = buildResourceSchemas('User', [
  { schema: ACME, name: 'code', type: 'string', multiValued: false, caseExact: true },
  { schema: ACME, name: 'hired', type: 'dateTime', multiValued: false },
  { schema: ACME, name: 'level', type: 'integer', multiValued: false },
]);
const groupRs = buildResourceSchemas('Group', []);
const ID = '2819c223-7f76-453a-919d-413861904646';

const user = {
  id: ID,
  userName: 'BJensen@Example.com',
  externalId: 'Ext-1',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: '',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  [ENT]: { employeeNumber: '701984', manager: { value: 'M-1' } },
  [CUSTOM]: { folders: ['d1', 'D2'] },
  [ACME]: { code: 'AbC', hired: '2020-01-01T10:00:00+02:00', level: 3 },
  groups: [{ value: 'g1', display: 'Sales', type: 'direct' }],
  meta: { resourceType: 'User', created: '2020-01-01T00:00:00.000Z', lastModified: '2021-06-01T12:00:00.000Z', version: 'W/"3"' },
};

const m = (text: string, res: Record<string, unknown> = user) => matchesFilter(parseFilter(text), res, rs);

describe('matchesFilter', () => {
  it('compares case-insensitively unless the attribute is caseExact', () => {
    assert.equal(m('userName eq "bjensen@example.com"'), true);
    assert.equal(m('USERNAME Sw "BJEN"'), true);
    assert.equal(m('externalId eq "ext-1"'), false); // caseExact
    assert.equal(m('externalId eq "Ext-1"'), true);
    assert.equal(m(`${ACME}:code eq "abc"`), false);
    assert.equal(m(`${ACME}:code eq "AbC"`), true);
    assert.equal(m(`id eq "${ID.toUpperCase()}"`), true); // a UUID is the same id in any case
    assert.equal(m('id eq "nope"'), false);
  });
  it('multi-valued attributes match if any value matches; complex ones compare value', () => {
    assert.equal(m('emails co "jensen.org"'), true);
    assert.equal(m('emails.type eq "home"'), true);
    assert.equal(m('emails.type eq "other"'), false);
    assert.equal(m('emails.value ne "babs@jensen.org"'), false); // ne negates eq over all values
    assert.equal(m(`${CUSTOM}:folders eq "d2"`), true);
    assert.equal(m('groups.display eq "sales"'), true);
  });
  it('value paths need one element to satisfy the whole value filter', () => {
    assert.equal(m('emails[type eq "work" and value co "example.com"]'), true);
    assert.equal(m('emails[type eq "home" and value co "example.com"]'), false);
    assert.equal(m('emails[not (primary eq true)]'), true);
    assert.equal(m(`${ENT}:manager[value eq "m-1"]`), true);
  });
  it('pr means present and non-empty; eq null means absent', () => {
    assert.equal(m('displayName pr'), false);
    assert.equal(m('displayName eq null'), true);
    assert.equal(m('title pr'), false);
    assert.equal(m('title ne null'), false);
    assert.equal(m('emails pr'), true);
    assert.equal(m('name pr'), true);
    assert.equal(m('phoneNumbers pr'), false);
    assert.equal(m(`${ENT}:employeeNumber pr`), true);
    assert.equal(m('title ne "x"'), true); // absent is not equal
  });
  it('compares dateTimes as instants and numbers numerically', () => {
    assert.equal(m(`${ACME}:hired eq "2020-01-01T08:00:00Z"`), true);
    assert.equal(m(`${ACME}:hired le "2020-01-01T09:00:00+01:00"`), true);
    assert.equal(m('meta.lastModified gt "2021-06-01T11:59:59Z"'), true);
    assert.equal(m('meta.created ge "2020-01-01T00:00:00"'), true); // no zone = UTC
    assert.equal(m(`${ACME}:level gt 2.5`), true);
    assert.equal(m(`${ACME}:level eq "3"`), true);
    assert.equal(m('active eq "True"'), true);
  });
  it('and / or / not', () => {
    assert.equal(m('userName pr and not (active eq false)'), true);
    assert.equal(m('title pr or emails[type eq "work"]'), true);
    assert.equal(m('not (title pr or emails[type eq "work"])'), false);
  });
  it('validates the whole filter even when evaluation would short-circuit', () => {
    assert.throws(() => m('userName pr or nosuch eq "x"'), /unknown attribute "nosuch"/);
    assert.throws(() => m('title pr and active gt true'), InvalidFilterError);
    assert.throws(() => m('phoneNumbers[bogus eq "x"]'), /unknown attribute "phoneNumbers\[bogus\]"/);
    assert.throws(() => m('meta.created gt "2021-13-01T00:00:00Z"'), /expected a dateTime/);
  });
  it('Group members', () => {
    const group = { id: 'g1', displayName: 'Sales', members: [{ value: ID, type: 'User', display: 'Babs' }] };
    assert.equal(matchesFilter(parseFilter(`members[value eq "${ID.toUpperCase()}"]`), group, groupRs), true);
    assert.equal(matchesFilter(parseFilter('members eq "other"'), group, groupRs), false);
    assert.equal(matchesFilter(parseFilter('displayName eq "SALES" and members.display co "ab"'), group, groupRs), true);
  });
});

describe('matchesValueFilter (PATCH value paths)', () => {
  const attr = (name: string, r = rs): AttributeDef => findAttr(r.core.attributes, name)!;
  const sel = (path: string, elements: unknown[], parent: AttributeDef) => {
    const { filter } = parsePatchPath(path);
    return elements.filter((el) => matchesValueFilter(filter!, el, parent));
  };
  it('selects elements by sub-attributes', () => {
    assert.deepEqual(sel('emails[type eq "work"].value', user.emails, attr('emails')), [user.emails[0]]);
    assert.deepEqual(sel('emails[TYPE eq "HOME" or primary eq true]', user.emails, attr('emails')), user.emails);
    assert.deepEqual(sel('emails[value pr and not (type eq "work")]', user.emails, attr('emails')), [user.emails[1]]);
  });
  it('group members by value', () => {
    const members = [{ value: 'a' }, { value: ID }, { value: 'c', display: 'x' }];
    assert.deepEqual(sel(`members[value eq "${ID}"]`, members, attr('members', groupRs)), [members[1]]);
  });
  it('elements of a multi-valued simple attribute are "value"', () => {
    const folders = findAttr(rs.extensions.find((s) => s.id === CUSTOM)!.attributes, 'folders')!;
    assert.deepEqual(sel('folders[value eq "d2"]', ['d1', 'D2', 'x'], folders), ['D2']);
    assert.throws(() => sel('folders[type eq "x"]', ['d1'], folders), /elements of folders are addressed as "value"/);
  });
  it('rejects unknown sub-attributes, bad comparisons and nested value paths whatever the element', () => {
    assert.throws(() => matchesValueFilter(parsePatchPath('emails[nosuch eq "x"]').filter!, null, attr('emails')), /unknown attribute "emails\[nosuch\]"/);
    assert.throws(() => matchesValueFilter(parseFilter('a[b eq 1]'), {}, attr('emails')), InvalidFilterError);
    assert.throws(() => matchesValueFilter(parseFilter('value pr or primary gt true'), { value: 'x' }, attr('emails')), /boolean/);
  });
});
