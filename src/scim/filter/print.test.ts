import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AttrPath, CompareOp, FilterNode, Literal } from './ast.js';
import { parseFilter } from './parse.js';
import { printFilter, printLiteral, printPath } from './print.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CUSTOM = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

const PATHS: AttrPath[] = [
  { attr: 'userName' }, { attr: 'name', sub: 'familyName' }, { attr: 'name', sub: 'givenName' }, { attr: 'emails' },
  { attr: 'emails', sub: 'value' }, { attr: 'emails', sub: 'type' }, { attr: 'active' }, { attr: 'id' }, { attr: 'externalId' },
  { attr: 'meta', sub: 'created' }, { attr: 'meta', sub: 'lastModified' }, { urn: CORE, attr: 'userName' },
  { urn: ENT, attr: 'employeeNumber' }, { urn: ENT, attr: 'manager', sub: 'value' }, { urn: CUSTOM, attr: 'folders' },
  { attr: 'groups', sub: 'display' }, { attr: 'members', sub: '$ref' }, { attr: 'NOT' }, { attr: 'and' }, { attr: 'x-y_z9' },
];
const MULTI: AttrPath[] = [{ attr: 'emails' }, { attr: 'members' }, { urn: CUSTOM, attr: 'folders' }, { urn: CORE, attr: 'addresses' }];
const INNER: AttrPath[] = [{ attr: 'type' }, { attr: 'value' }, { attr: 'primary' }, { attr: 'display' }];
// Plain objects: deepStrictEqual distinguishes null-prototype records from parsed ones.
const NP = { noNullPrototype: true } as const;
const OPS: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

// Any UTF-16 code unit, including quotes, backslashes, control characters and lone surrogates.
const anyChar = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const literal: fc.Arbitrary<Literal> = fc.oneof(
  fc.string({ unit: anyChar, maxLength: 12 }),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('"', '\\', '\\"', "'; DROP TABLE scim_users; --", '%_', 'and', ')', ']'),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

function leaf(paths: AttrPath[]): fc.Arbitrary<FilterNode> {
  const path = fc.constantFrom(...paths);
  return fc.oneof(
    fc.record({ kind: fc.constant('compare' as const), path, op: fc.constantFrom(...OPS), value: literal }, NP),
    fc.record({ kind: fc.constant('present' as const), path }, NP),
  );
}

function tree(paths: AttrPath[], withValuePath: boolean): fc.Arbitrary<FilterNode> {
  const { node } = fc.letrec<{ node: FilterNode }>((tie) => {
    const sub = tie('node');
    const options: fc.Arbitrary<FilterNode>[] = [
      leaf(paths),
      fc.record({ kind: fc.constant('and' as const), left: sub, right: sub }, NP),
      fc.record({ kind: fc.constant('or' as const), left: sub, right: sub }, NP),
      fc.record({ kind: fc.constant('not' as const), filter: sub }, NP),
    ];
    if (withValuePath) {
      options.push(fc.record({ kind: fc.constant('valuePath' as const), path: fc.constantFrom(...MULTI), filter: tree(INNER, false) }, NP));
    }
    return { node: fc.oneof({ maxDepth: 4, depthIdentifier: withValuePath ? 'outer' : 'inner' }, ...options) };
  });
  return node;
}

const NUMBER_TEXT = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
/** Could this string go unquoted, as Microsoft's clients send it? */
function bareSafe(v: string): boolean {
  return v !== '' && !/[\s)\]\u0000-\u001f\u007f]/.test(v) && !/^["([]/.test(v) && !/^(true|false|null)$/i.test(v) && !NUMBER_TEXT.test(v);
}
/**
 * The lenient dialect real clients send: string values unquoted where possible,
 * `attr[f].sub op v` for `attr[f and sub op v]`, and fully parenthesised and/or.
 */
function printLenient(node: FilterNode): string {
  switch (node.kind) {
    case 'compare': {
      const v = node.value;
      return `${printPath(node.path)} ${node.op} ${typeof v === 'string' && bareSafe(v) ? v : printLiteral(v)}`;
    }
    case 'present':
      return `${printPath(node.path)} pr`;
    case 'not':
      return `not (${printLenient(node.filter)})`;
    case 'and':
    case 'or':
      return `(${printLenient(node.left)}) ${node.kind} (${printLenient(node.right)})`;
    case 'valuePath': {
      const f = node.filter;
      if (f.kind === 'and' && (f.right.kind === 'compare' || f.right.kind === 'present') && !f.right.path.urn && !f.right.path.sub) {
        return `${printPath(node.path)}[${printLenient(f.left)}].${printLenient(f.right)}`;
      }
      return `${printPath(node.path)}[${printLenient(f)}]`;
    }
  }
}
const bareWord = fc.string({ unit: fc.constantFrom(...'aZ09.-_:@+/%&=\'"é(['), minLength: 1, maxLength: 12 });

describe('printFilter', () => {
  it('prints canonical text', () => {
    assert.equal(printFilter(parseFilter('userName EQ "a" AND (title pr OR not(x eq 1))')), 'userName eq "a" and (title pr or not (x eq 1))');
    assert.equal(printFilter(parseFilter('a pr and (b pr and c pr)')), 'a pr and (b pr and c pr)');
    assert.equal(printFilter(parseFilter('(a pr or b pr) and c pr')), '(a pr or b pr) and c pr');
    assert.equal(printFilter(parseFilter('a pr or b pr and c pr')), 'a pr or b pr and c pr');
    assert.equal(printFilter(parseFilter('emails[type eq "work"]')), 'emails[type eq "work"]');
    assert.equal(printFilter(parseFilter(String.raw`a eq "q\"\\\u0001"`)), String.raw`a eq "q\"\\\u0001"`);
    assert.equal(printFilter({ kind: 'compare', path: { attr: 'a' }, op: 'eq', value: -0 }), 'a eq -0');
    assert.throws(() => printFilter({ kind: 'compare', path: { attr: 'a' }, op: 'eq', value: Number.NaN }), RangeError);
  });

  it('property: parseFilter(printFilter(ast)) deep-equals ast', () => {
    fc.assert(
      fc.property(tree(PATHS, true), (ast) => {
        assert.deepStrictEqual(parseFilter(printFilter(ast)), ast);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: the lenient dialect (unquoted values, attr[f].sub op v) parses to the same AST', () => {
    const lenientLiteral = fc.oneof(literal, bareWord, bareWord.map((w) => `2015-10-10T14:38:21.8617979-07:00${w}`));
    const lenientLeaf = (paths: AttrPath[]): fc.Arbitrary<FilterNode> => fc.oneof(
      fc.record({ kind: fc.constant('compare' as const), path: fc.constantFrom(...paths), op: fc.constantFrom(...OPS), value: lenientLiteral }, NP),
      fc.record({ kind: fc.constant('present' as const), path: fc.constantFrom(...paths) }, NP),
    );
    const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
      node: fc.oneof(
        { maxDepth: 4, depthIdentifier: 'lenient' },
        lenientLeaf(PATHS),
        fc.record({ kind: fc.constant('and' as const), left: tie('node'), right: tie('node') }, NP),
        fc.record({ kind: fc.constant('or' as const), left: tie('node'), right: tie('node') }, NP),
        fc.record({ kind: fc.constant('not' as const), filter: tie('node') }, NP),
        // Shapes Microsoft writes as emails[type eq "work"].value eq "x".
        fc.record({
          kind: fc.constant('valuePath' as const),
          path: fc.constantFrom(...MULTI),
          filter: fc.record({ kind: fc.constant('and' as const), left: tree(INNER, false), right: lenientLeaf(INNER) }, NP),
        }, NP),
      ),
    }));
    fc.assert(
      fc.property(node, (ast) => {
        const text = printLenient(ast);
        assert.deepStrictEqual(parseFilter(text), ast, text);
        assert.deepStrictEqual(parseFilter(printFilter(ast)), ast);
      }),
      { numRuns: 2000 },
    );
  });

  it('lenient input prints canonically', () => {
    assert.equal(printFilter(parseFilter('externalId eq jyoung')), 'externalId eq "jyoung"');
    assert.equal(printFilter(parseFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00')), 'meta.Created gt "2015-10-10T14:38:21.8617979-07:00"');
    assert.equal(printFilter(parseFilter('emails[type eq "work"].value eq x')), 'emails[type eq "work" and value eq "x"]');
    assert.equal(printFilter(parseFilter('emails[type eq "work" or primary eq true].value pr')), 'emails[(type eq "work" or primary eq true) and value pr]');
  });

  it('property: printing is a fixpoint on parsed text', () => {
    fc.assert(
      fc.property(tree(PATHS, true), (ast) => {
        const text = printFilter(ast);
        assert.equal(printFilter(parseFilter(text)), text);
      }),
      { numRuns: 500 },
    );
  });
});
