import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contains, differences, formatMismatch, matcherProblem } from './match.ts';

describe('expected values', () => {
  test('equal values have no differences', () => {
    assert.deepEqual(differences({ a: [1, { b: 'x' }], c: null }, { a: [1, { b: 'x' }], c: null }), []);
  });

  test('a difference is reported at its JSON path with both values', () => {
    const [mismatch, ...rest] = differences({ items: [{ title: 'A' }] }, { items: [{ title: 'B' }] });
    assert.deepEqual(rest, []);
    assert.equal(
      formatMismatch(mismatch!),
      'at $.items[0].title: differs\n      expected: "A"\n      actual:   "B"',
    );
  });

  test('missing and unexpected keys are both differences in an exact comparison', () => {
    const found = differences({ a: 1, b: 2 }, { a: 1, c: 3 }).map((m) => `${m.path} ${m.reason}`);
    assert.deepEqual(found, ['$.b missing', '$.c not expected']);
  });

  test('keys that are not identifiers are quoted in the path', () => {
    assert.equal(differences({ 'x-y': 1 }, { 'x-y': 2 })[0]?.path, '$["x-y"]');
  });

  test('arrays of another length differ at the array', () => {
    assert.equal(differences([1, 2], [1])[0]?.reason, 'expected 2 items, got 1');
  });

  test('$any, $type and $regex match what they say and nothing else', () => {
    assert.deepEqual(differences({ id: { $any: true } }, { id: 7 }), []);
    assert.equal(differences({ id: { $any: true } }, {})[0]?.reason, 'missing');
    assert.deepEqual(differences({ n: { $type: 'integer' }, f: { $type: 'number' } }, { n: 3, f: 3 }), []);
    assert.equal(
      differences({ n: { $type: 'string' } }, { n: 3 })[0]?.reason,
      'expected a value of type string',
    );
    assert.deepEqual(differences({ $regex: '^mc-\\d{4}$' }, 'mc-0001'), []);
    assert.equal(differences({ $regex: '^mc-' }, 'xx')[0]?.reason, 'expected a string matching /^mc-/');
  });

  test('$subset needs only the keys and leading items it names', () => {
    assert.deepEqual(differences({ $subset: { a: 1, list: [1] } }, { a: 1, b: 2, list: [1, 2] }), []);
    assert.equal(differences({ $subset: { a: 1 } }, { a: 2, b: 2 })[0]?.path, '$.a');
  });

  test('contains is the subset comparison used to match a call input', () => {
    assert.ok(contains({ params: { id: 'a' } }, { params: { id: 'a' }, headers: { x: '1' } }));
    assert.ok(!contains({ params: { id: 'a' } }, { params: { id: 'b' } }));
  });

  test('a $type of no type and a $regex that does not compile are problems', () => {
    assert.match(matcherProblem({ a: [{ $type: 'str' }] }) ?? '', /\$type must be one of/);
    assert.match(matcherProblem({ $regex: '(' }) ?? '', /^\$regex:/);
    assert.equal(matcherProblem({ a: { $type: 'string' } }), undefined);
  });
});
