import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidFilterError, InvalidPathError } from '../errors.js';
import type { FilterNode } from './ast.js';
import { MAX_FILTER_BYTES, parseAttrPath, parseFilter, parsePatchPath } from './parse.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CUSTOM = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName';

const cmp = (attr: string, op: string, value: unknown, extra: Record<string, string> = {}): FilterNode =>
  ({ kind: 'compare', path: { attr, ...extra }, op, value } as FilterNode);

function rejects(text: string, re: RegExp): void {
  assert.throws(() => parseFilter(text), (e: unknown) => {
    assert.ok(e instanceof InvalidFilterError, `expected InvalidFilterError for ${text}, got ${String(e)}`);
    assert.equal(e.scimType, 'invalidFilter');
    assert.equal(e.status, 400);
    assert.match(e.message, re);
    return true;
  });
}

describe('parseFilter: comparisons', () => {
  for (const op of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']) {
    it(`parses ${op}`, () => {
      assert.deepEqual(parseFilter(`userName ${op} "bjensen"`), cmp('userName', op, 'bjensen'));
    });
  }
  it('parses pr', () => {
    assert.deepEqual(parseFilter('title pr'), { kind: 'present', path: { attr: 'title' } });
  });
  it('operators and keywords are case-insensitive', () => {
    assert.deepEqual(parseFilter('userName EQ "a" And title Pr'), {
      kind: 'and', left: cmp('userName', 'eq', 'a'), right: { kind: 'present', path: { attr: 'title' } },
    });
    assert.deepEqual(parseFilter('NOT (active Eq TRUE) OR x eq NULL'), {
      kind: 'or', left: { kind: 'not', filter: cmp('active', 'eq', true) }, right: cmp('x', 'eq', null),
    });
  });
  it('keeps attribute names as written', () => {
    assert.deepEqual(parseFilter('USERNAME eq "x"'), cmp('USERNAME', 'eq', 'x'));
  });
  it('parses literals: true false null numbers', () => {
    assert.deepEqual(parseFilter('a eq true'), cmp('a', 'eq', true));
    assert.deepEqual(parseFilter('a eq false'), cmp('a', 'eq', false));
    assert.deepEqual(parseFilter('a eq null'), cmp('a', 'eq', null));
    assert.deepEqual(parseFilter('a gt 42'), cmp('a', 'gt', 42));
    assert.deepEqual(parseFilter('a gt -0.5'), cmp('a', 'gt', -0.5));
    assert.deepEqual(parseFilter('a gt 1.5e3'), cmp('a', 'gt', 1500));
    assert.deepEqual(parseFilter('a gt 2E-2'), cmp('a', 'gt', 0.02));
    assert.deepEqual(parseFilter('a gt 0'), cmp('a', 'gt', 0));
  });
  it('decodes JSON string escapes', () => {
    assert.deepEqual(parseFilter(String.raw`a eq "q\"b\\s\/\u00e9\u0041\n\t"`), cmp('a', 'eq', 'q"b\\s/éA\n\t'));
    assert.deepEqual(parseFilter('a eq ""'), cmp('a', 'eq', ''));
    assert.deepEqual(parseFilter('a eq "and or not ) ( ] ["'), cmp('a', 'eq', 'and or not ) ( ] ['));
    assert.deepEqual(parseFilter('a eq "日本語 ünïcode"'), cmp('a', 'eq', '日本語 ünïcode'));
  });
  it('parses sub-attributes and URN-qualified paths', () => {
    assert.deepEqual(parseFilter('name.familyName co "O\'Malley"'), cmp('name', 'co', "O'Malley", { sub: 'familyName' }));
    assert.deepEqual(parseFilter(`${CORE}:userName sw "J"`), cmp('userName', 'sw', 'J', { urn: CORE }));
    assert.deepEqual(parseFilter(`${ENT}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`),
      cmp('manager', 'eq', '26118915-6090-4610-87e4-49d8ca9f808d', { urn: ENT, sub: 'value' }));
    assert.deepEqual(parseFilter(`${CUSTOM}:folders eq "d1"`), cmp('folders', 'eq', 'd1', { urn: CUSTOM }));
    assert.deepEqual(parseFilter('meta.lastModified gt "2011-05-13T04:42:34Z"'),
      cmp('meta', 'gt', '2011-05-13T04:42:34Z', { sub: 'lastModified' }));
    assert.deepEqual(parseFilter('members.$ref pr'), { kind: 'present', path: { attr: 'members', sub: '$ref' } });
  });
  it('accepts extra whitespace and no space around brackets/parens', () => {
    assert.deepEqual(parseFilter('  (userName eq "a")  '), cmp('userName', 'eq', 'a'));
    assert.deepEqual(parseFilter('(a pr)and(b pr)'), {
      kind: 'and', left: { kind: 'present', path: { attr: 'a' } }, right: { kind: 'present', path: { attr: 'b' } },
    });
    assert.deepEqual(parseFilter('not(a pr)'), { kind: 'not', filter: { kind: 'present', path: { attr: 'a' } } });
    assert.deepEqual(parseFilter('a\teq\t"x"'), cmp('a', 'eq', 'x'));
  });
});

describe('parseFilter: logic and precedence', () => {
  const A = cmp('a', 'eq', 1), B = cmp('b', 'eq', 2), C = cmp('c', 'eq', 3);
  it('and binds tighter than or', () => {
    assert.deepEqual(parseFilter('a eq 1 or b eq 2 and c eq 3'), { kind: 'or', left: A, right: { kind: 'and', left: B, right: C } });
    assert.deepEqual(parseFilter('a eq 1 and b eq 2 or c eq 3'), { kind: 'or', left: { kind: 'and', left: A, right: B }, right: C });
  });
  it('and/or are left-associative', () => {
    assert.deepEqual(parseFilter('a eq 1 and b eq 2 and c eq 3'), { kind: 'and', left: { kind: 'and', left: A, right: B }, right: C });
    assert.deepEqual(parseFilter('a eq 1 or b eq 2 or c eq 3'), { kind: 'or', left: { kind: 'or', left: A, right: B }, right: C });
  });
  it('parentheses override precedence', () => {
    assert.deepEqual(parseFilter('(a eq 1 or b eq 2) and c eq 3'), { kind: 'and', left: { kind: 'or', left: A, right: B }, right: C });
    assert.deepEqual(parseFilter('a eq 1 and (b eq 2 and c eq 3)'), { kind: 'and', left: A, right: { kind: 'and', left: B, right: C } });
  });
  it('not applies to its parenthesised filter only', () => {
    assert.deepEqual(parseFilter('not (a eq 1) and b eq 2'), { kind: 'and', left: { kind: 'not', filter: A }, right: B });
    assert.deepEqual(parseFilter('not (a eq 1 or b eq 2)'), { kind: 'not', filter: { kind: 'or', left: A, right: B } });
    assert.deepEqual(parseFilter('not (not (a eq 1))'), { kind: 'not', filter: { kind: 'not', filter: A } });
  });
  it('RFC 7644 examples', () => {
    assert.deepEqual(parseFilter('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")'), {
      kind: 'and',
      left: cmp('userType', 'eq', 'Employee'),
      right: { kind: 'or', left: cmp('emails', 'co', 'example.com'), right: cmp('emails', 'co', 'example.org', { sub: 'value' }) },
    });
    assert.deepEqual(parseFilter('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")').kind, 'and');
    assert.deepEqual(parseFilter('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]'), {
      kind: 'and',
      left: cmp('userType', 'eq', 'Employee'),
      right: {
        kind: 'valuePath', path: { attr: 'emails' },
        filter: { kind: 'and', left: cmp('type', 'eq', 'work'), right: cmp('value', 'co', '@example.com') },
      },
    });
    assert.equal(parseFilter('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]').kind, 'or');
  });
  it('value filters allow not and parentheses', () => {
    assert.deepEqual(parseFilter('emails[not (type eq "work") and (value pr)]'), {
      kind: 'valuePath', path: { attr: 'emails' },
      filter: { kind: 'and', left: { kind: 'not', filter: cmp('type', 'eq', 'work') }, right: { kind: 'present', path: { attr: 'value' } } },
    });
  });
  it('Entra group filter: id eq and members[value eq]', () => {
    assert.deepEqual(parseFilter('id eq "g1" and members[value eq "u1"]'), {
      kind: 'and', left: cmp('id', 'eq', 'g1'),
      right: { kind: 'valuePath', path: { attr: 'members' }, filter: cmp('value', 'eq', 'u1') },
    });
  });
  it('a URN-qualified value path', () => {
    assert.deepEqual(parseFilter(`${CORE}:emails[type eq "work"]`), {
      kind: 'valuePath', path: { urn: CORE, attr: 'emails' }, filter: cmp('type', 'eq', 'work'),
    });
  });
});

describe('parseFilter: unquoted comparison values (lenient)', () => {
  it('reads a bare word after an operator as a string', () => {
    assert.deepEqual(parseFilter('externalId eq jyoung'), cmp('externalId', 'eq', 'jyoung'));
    assert.deepEqual(parseFilter('userName sw O'), cmp('userName', 'sw', 'O'));
    assert.deepEqual(parseFilter('userName eq bjensen@example.com'), cmp('userName', 'eq', 'bjensen@example.com'));
    assert.deepEqual(parseFilter('a eq x+y=z&w\'q\'"'), cmp('a', 'eq', 'x+y=z&w\'q\'"'));
    assert.deepEqual(parseFilter("a eq 'single'"), cmp('a', 'eq', "'single'"));
    assert.deepEqual(parseFilter('a eq 日本語'), cmp('a', 'eq', '日本語'));
  });
  it('Microsoft Postman: name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)', () => {
    assert.deepEqual(parseFilter('name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)'), {
      kind: 'and',
      left: cmp('name', 'eq', 'Employee', { sub: 'FamilyName' }),
      right: {
        kind: 'or',
        left: cmp('emails', 'co', 'example.com', { sub: 'Value' }),
        right: cmp('emails', 'co', 'example.org', { sub: 'Value' }),
      },
    });
  });
  it('reads dateTimes with offsets and long fractions as one string', () => {
    assert.deepEqual(parseFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00'),
      cmp('meta', 'gt', '2015-10-10T14:38:21.8617979-07:00', { sub: 'Created' }));
    assert.deepEqual(parseFilter('meta.lastModified ge 2011-05-13T04:42:34Z and a pr'), {
      kind: 'and', left: cmp('meta', 'ge', '2011-05-13T04:42:34Z', { sub: 'lastModified' }), right: { kind: 'present', path: { attr: 'a' } },
    });
  });
  it('a bare word ends at whitespace, ")" or "]"', () => {
    assert.deepEqual(parseFilter('(a eq x)'), cmp('a', 'eq', 'x'));
    assert.deepEqual(parseFilter('(a eq x)and(b eq y)'), { kind: 'and', left: cmp('a', 'eq', 'x'), right: cmp('b', 'eq', 'y') });
    assert.deepEqual(parseFilter('emails[type eq work]'), { kind: 'valuePath', path: { attr: 'emails' }, filter: cmp('type', 'eq', 'work') });
    assert.deepEqual(parseFilter('a eq x(y'), cmp('a', 'eq', 'x(y'));
    assert.deepEqual(parseFilter('a eq x\tor\nb pr'), {
      kind: 'or', left: cmp('a', 'eq', 'x'), right: { kind: 'present', path: { attr: 'b' } },
    });
  });
  it('true, false, null and JSON numbers keep their meaning; other number-like words are strings', () => {
    assert.deepEqual(parseFilter('a eq TRUE'), cmp('a', 'eq', true));
    assert.deepEqual(parseFilter('a eq False'), cmp('a', 'eq', false));
    assert.deepEqual(parseFilter('a eq null'), cmp('a', 'eq', null));
    assert.deepEqual(parseFilter('a eq -1.5e3'), cmp('a', 'eq', -1500));
    assert.deepEqual(parseFilter('(a eq 7)'), cmp('a', 'eq', 7));
    assert.deepEqual(parseFilter('a eq truex'), cmp('a', 'eq', 'truex'));
    assert.deepEqual(parseFilter('a eq 01'), cmp('a', 'eq', '01'));
    assert.deepEqual(parseFilter('a eq 1.'), cmp('a', 'eq', '1.'));
    assert.deepEqual(parseFilter('a eq 12abc'), cmp('a', 'eq', '12abc'));
    assert.deepEqual(parseFilter('a eq 1.2.3'), cmp('a', 'eq', '1.2.3'));
    assert.deepEqual(parseFilter('a eq +1'), cmp('a', 'eq', '+1'));
  });
  it('operator-like words are values in value position', () => {
    assert.deepEqual(parseFilter('a eq and'), cmp('a', 'eq', 'and'));
    assert.deepEqual(parseFilter('a eq eq or b eq or'), { kind: 'or', left: cmp('a', 'eq', 'eq'), right: cmp('b', 'eq', 'or') });
    assert.deepEqual(parseFilter('not eq not'), cmp('not', 'eq', 'not'));
  });
  it('PATCH value filters accept bare values too', () => {
    assert.deepEqual(parsePatchPath('emails[type eq work].value'), { path: { attr: 'emails' }, filter: cmp('type', 'eq', 'work'), sub: 'value' });
  });
});

describe('parseFilter: sub-attribute after a value path (Microsoft)', () => {
  const work = cmp('type', 'eq', 'work');
  it('emails[type eq "work"].value eq "x" is emails[type eq "work" and value eq "x"]', () => {
    const expected: FilterNode = { kind: 'valuePath', path: { attr: 'emails' }, filter: { kind: 'and', left: work, right: cmp('value', 'eq', 'x') } };
    assert.deepEqual(parseFilter('emails[type eq "work"].value eq "x"'), expected);
    assert.deepEqual(parseFilter('emails[type eq "work" and value eq "x"]'), expected);
    assert.deepEqual(parseFilter('emails[ type eq "work" ].value EQ x'), expected);
  });
  it('pr, URN paths and combination with other terms', () => {
    assert.deepEqual(parseFilter('emails[type eq "work"].value pr'), {
      kind: 'valuePath', path: { attr: 'emails' }, filter: { kind: 'and', left: work, right: { kind: 'present', path: { attr: 'value' } } },
    });
    assert.deepEqual(parseFilter(`${CORE}:emails[type eq "work"].value co "@x" or userName eq "u"`), {
      kind: 'or',
      left: { kind: 'valuePath', path: { urn: CORE, attr: 'emails' }, filter: { kind: 'and', left: work, right: cmp('value', 'co', '@x') } },
      right: cmp('userName', 'eq', 'u'),
    });
  });
  it('an or inside the brackets stays grouped', () => {
    assert.deepEqual(parseFilter('emails[type eq "work" or type eq "home"].value eq "x"'), {
      kind: 'valuePath', path: { attr: 'emails' },
      filter: { kind: 'and', left: { kind: 'or', left: work, right: cmp('type', 'eq', 'home') }, right: cmp('value', 'eq', 'x') },
    });
  });
  it('is still rejected inside a value filter', () => {
    rejects('emails[phoneNumbers[type eq "x"].value eq "y"]', /value path inside a value filter/);
  });
});

describe('parseFilter: errors', () => {
  it('names the unexpected token, its position and what was expected', () => {
    rejects('userName xx "a"', /unexpected token "xx" at position 9; expected a comparison operator/);
    rejects('userName eq "a" foo', /unexpected token "foo" at position 16; expected "and", "or" or end of filter/);
    rejects('userName eq', /unexpected end of input at position 11; expected a value/);
    rejects('userName eq )', /unexpected token "\)" at position 12; expected a value/);
    rejects('userName eq ]', /unexpected token "\]" at position 12; expected a value/);
    rejects('userName eq (', /unexpected token "\(" at position 12; expected a value/);
    rejects('(userName eq "a"', /expected "and", "or" or "\)"/);
    rejects('userName eq "a")', /unexpected token "\)" at position 15/);
    rejects('emails[type eq "a"', /expected "and", "or" or "\]"/);
    rejects('and eq "x" and', /expected an attribute path/);
    rejects('a eq "x" and', /unexpected end of input/);
    rejects('', /empty/);
    rejects('   ', /empty/);
  });
  it('rejects bad strings, numbers and characters', () => {
    rejects('a eq "abc', /unterminated string starting at position 5/);
    rejects(String.raw`a eq "\x"`, /invalid escape/);
    rejects(String.raw`a eq "\u12"`, /invalid \\u escape/);
    rejects('a eq "tab\there"', /control character/);
    rejects("a eq 'x' & b pr", /unexpected character "&" at position 9/);
    rejects('a eq "x"y', /unexpected token "y" at position 8/);
    rejects('a eq x\u0001y', /control character in value at position 6/);
    rejects('01 eq "x"', /invalid number "01"/);
    rejects('1.2.3 pr', /invalid number/);
    rejects('a = "x"', /unexpected character "="/);
    rejects('a eq "x" && b pr', /unexpected character "&"/);
  });
  it('rejects bad attribute paths', () => {
    rejects('name.given.x eq "a"', /invalid attribute path "name.given.x"/);
    rejects('1abc eq "a"', /invalid number|expected an attribute path/);
    rejects('name. eq "a"', /invalid attribute path/);
    rejects(`${ENT}: eq "a"`, /invalid attribute path/);
    rejects('foo:bar eq "a"', /invalid schema URN "foo"/);
  });
  it('requires "(" after not', () => {
    rejects('not userName eq "a"', /unexpected token "userName" at position 4; expected "\(" after "not"/);
  });
  it('rejects bad sub-attributes after a value path, nested value paths, and value paths on sub-attributes', () => {
    rejects('emails[type eq "work"].value.x eq "x"', /invalid sub-attribute "value.x" at position 23/);
    rejects('emails[type eq "work"].value', /unexpected end of input at position 28; expected a comparison operator/);
    rejects('emails[type eq "work"].value xx "x"', /unexpected token "xx" at position 29; expected a comparison operator/);
    rejects('emails[type eq "work"]. eq "x"', /invalid sub-attribute ""/);
    rejects('emails[type eq "work"] .value eq "x"', /unexpected token ".value" at position 23; expected "and", "or" or end of filter/);
    rejects('emails[type eq "work"].value eq "x"[a pr]', /unexpected token "\[" at position 35/);
    rejects('emails[type eq "work" and phoneNumbers[type eq "x"]]', /value path inside a value filter/);
    rejects('emails.value[type eq "work"]', /must follow a multi-valued attribute/);
  });
  it('rejects over-long input and deep nesting', () => {
    const long = `userName eq "${'x'.repeat(MAX_FILTER_BYTES)}"`;
    rejects(long, /longer than 8192 bytes/);
    rejects(`a eq "${'é'.repeat(4200)}"`, /longer than 8192 bytes/); // bytes, not characters
    const ok = `${'('.repeat(32)}a pr${')'.repeat(32)}`;
    assert.deepEqual(parseFilter(ok), { kind: 'present', path: { attr: 'a' } });
    rejects(`${'('.repeat(33)}a pr${')'.repeat(33)}`, /nested deeper than 32 levels/);
    rejects(`${'not ('.repeat(40)}a pr${')'.repeat(40)}`, /nested deeper than 32 levels/);
    rejects('('.repeat(5000), /nested deeper than 32 levels/);
  });
  it('accepts a long flat chain without recursion trouble', () => {
    const text = Array.from({ length: 500 }, (_, i) => `a eq ${i}`).join(' or ');
    let n = parseFilter(text);
    let count = 1;
    while (n.kind === 'or') { n = n.left; count++; }
    assert.equal(count, 500);
  });
});

describe('parseAttrPath', () => {
  it('parses plain, dotted and URN paths', () => {
    assert.deepEqual(parseAttrPath('userName'), { attr: 'userName' });
    assert.deepEqual(parseAttrPath('name.givenName'), { attr: 'name', sub: 'givenName' });
    assert.deepEqual(parseAttrPath(`${ENT}:manager.value`), { urn: ENT, attr: 'manager', sub: 'value' });
    assert.deepEqual(parseAttrPath(' meta.lastModified '), { attr: 'meta', sub: 'lastModified' });
  });
  it('throws InvalidPathError', () => {
    for (const bad of ['', 'a b', 'a.b.c', 'emails[type eq "x"]', '.x', 'x:y']) {
      assert.throws(() => parseAttrPath(bad), InvalidPathError, bad);
    }
  });
});

describe('parsePatchPath', () => {
  it('parses RFC 7644 §3.5.2 and IdP paths', () => {
    assert.deepEqual(parsePatchPath('members'), { path: { attr: 'members' } });
    assert.deepEqual(parsePatchPath('name.givenName'), { path: { attr: 'name', sub: 'givenName' } });
    assert.deepEqual(parsePatchPath('emails[type eq "work"].value'), {
      path: { attr: 'emails' }, filter: cmp('type', 'eq', 'work'), sub: 'value',
    });
    assert.deepEqual(parsePatchPath('members[value eq "2819c223-7f76-453a-919d-413861904646"]'), {
      path: { attr: 'members' }, filter: cmp('value', 'eq', '2819c223-7f76-453a-919d-413861904646'),
    });
    assert.deepEqual(parsePatchPath(`${ENT}:manager`), { path: { urn: ENT, attr: 'manager' } });
    assert.deepEqual(parsePatchPath(`${ENT}:manager.value`), { path: { urn: ENT, attr: 'manager', sub: 'value' } });
    assert.deepEqual(parsePatchPath(`${CORE}:emails[type eq "work"].value`), {
      path: { urn: CORE, attr: 'emails' }, filter: cmp('type', 'eq', 'work'), sub: 'value',
    });
    assert.deepEqual(parsePatchPath('addresses[type eq "work" and primary eq true].streetAddress'), {
      path: { attr: 'addresses' },
      filter: { kind: 'and', left: cmp('type', 'eq', 'work'), right: cmp('primary', 'eq', true) },
      sub: 'streetAddress',
    });
  });
  it('throws InvalidPathError for malformed paths, including bad value filters', () => {
    for (const bad of [
      '', 'emails[type eq "work"', 'emails[type eq "work"].', 'emails[type eq "work"].a.b', 'emails[type eq "work"] .value',
      'name.givenName[type eq "x"]', 'emails[type xx "work"]', 'emails[a[b eq 1]]', 'a b', 'emails[type eq "work"]x',
    ]) {
      assert.throws(() => parsePatchPath(bad), (e: unknown) => e instanceof InvalidPathError && e.scimType === 'invalidPath', bad);
    }
  });
});
