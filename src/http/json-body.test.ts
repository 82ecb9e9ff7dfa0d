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

test('bodyProblem: the text pre-check is linear (a crafted 1 MB body of 308-digit runs)', () => {
  // /\d{309}/ restarted at every digit of each run: ~0.4 s of CPU for this body before authentication.
  const text = `[${`${'1'.repeat(308)},`.repeat(3_300)}0]`;
  assert.ok(text.length > 1_000_000);
  const parsed = JSON.parse(text);
  const time = (fn: () => unknown, runs = 5) => {
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      fn();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const check = time(() => bodyProblem(text, parsed));
  assert.equal(bodyProblem(text, parsed), undefined);
  // Compared with the former check on the same text, so that a busy machine slows both alike
  // (here it costs ~300 steps per digit; the pre-check one).
  const former = time(() => /[eE][+-]?\d{3}|\d{309}/.test(text), 1);
  assert.ok(check * 4 <= former, `pre-check ${check.toFixed(1)} ms vs the former regular expression ${former.toFixed(1)} ms`);
  // Still found: 309 digits, a 3-digit exponent with or without its sign.
  assert.match(bodyProblem(`[${'9'.repeat(309)}]`, JSON.parse(`[${'9'.repeat(309)}]`)) ?? '', /out of range/);
  for (const n of ['1e309', '1E+309', '-1e-999']) assert.equal(bodyProblem(`[${n}]`, JSON.parse(`[${n}]`)), walkForProblem(`[${n}]`, JSON.parse(`[${n}]`)), n);
});
