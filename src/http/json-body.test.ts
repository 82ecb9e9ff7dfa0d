import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bodyProblem, MAX_JSON_DEPTH, walkForProblem } from './json-body.js';

const check = (text: string) => bodyProblem(text, JSON.parse(text));

test('bodyProblem: the problems it exists for', () => {
  const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
  assert.match(check(deep) ?? '', /nested more than/);
  assert.equal(check('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)), undefined, 'at the limit');
  assert.match(check('{"a":1e309}') ?? '', /"a" is out of range/);
  assert.match(check(`{"n":${'9'.repeat(310)}}`) ?? '', /out of range/);
  assert.match(check('{"userName":"a\\u0000b"}') ?? '', /"userName" contains U\+0000/);
  assert.match(check('{"x":"\\ud800"}') ?? '', /unpaired surrogate/);
  assert.equal(check('{"x":"\\ud83d\\ude00"}'), undefined, 'a paired surrogate is fine');
  assert.equal(check('{"x":1e300,"y":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'), undefined, 'brackets in strings, big finite numbers');
  const wide = JSON.stringify({ emails: Array.from({ length: 50 }, (_, i) => ({ value: `u${i}@x.io` })) });
  assert.equal(check(wide), undefined, 'many brackets, shallow');
});

test('bodyProblem: the text pre-check never hides what the walk finds', () => {
  const nasty = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom('\u0000', '\ud800', '\udfff', '[', '{', 'e309'),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      nasty, fc.double(), fc.integer(), fc.boolean(), fc.constant(null),
      fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(nasty, tie('node'), { maxKeys: 4 })),
  })).node;
  fc.assert(fc.property(value, fc.integer({ min: 0, max: 40 }), (v, wrap) => {
    let text = JSON.stringify(v) ?? 'null';
    for (let i = 0; i < wrap; i++) text = `[${text}]`;
    const parsed = JSON.parse(text);
    assert.equal(bodyProblem(text, parsed), walkForProblem(text, parsed));
  }), { numRuns: 500 });
  // Numbers JSON.stringify cannot produce but a client can send.
  for (const n of ['1e309', '-1E+400', '1e-400', '1.5e308']) {
    const text = `{"n":${n}}`;
    assert.equal(bodyProblem(text, JSON.parse(text)), walkForProblem(text, JSON.parse(text)), n);
  }
});
