/** The hints added to compile errors of common CEL mistakes, as the config loader reports them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileExpression } from './cel.ts';
import { expressionHint } from './hints.ts';

function hintFor(source: string): string | undefined {
  try {
    compileExpression(source, new Set(['steps', 'request']));
  } catch (error) {
    return expressionHint(source, (error as Error).message);
  }
  return 'compiled';
}

test(".?['@dir'] is answered with the map[?'@dir'] form, the expression rewritten", () => {
  assert.equal(
    hintFor("steps.x.?['@dir'].orValue('')"),
    "an optional index is written map[?'key'] (or list[?0]), not map.?['key']: steps.x[?'@dir'].orValue('')",
  );
  // …and the form it suggests compiles.
  assert.equal(hintFor("steps.x[?'@dir'].orValue('')"), 'compiled');
});

test('a single = is answered with ==', () => {
  assert.equal(hintFor("steps.x.kind = 'film'"), 'compare with == (a single = is not an operator in CEL)');
});

test('arrow functions, nil, and/or, len() and string + number each get their hint', () => {
  assert.match(hintFor('steps.x.map(f => f.id)')!, /list\.map\(x, x\.price\)/);
  assert.equal(hintFor('steps.x == nil'), 'the missing value is written null');
  assert.match(hintFor('steps.a and steps.b')!, /&& and \|\|/);
  assert.equal(hintFor('len(steps.x)'), 'the length of a list, map or string is size(x)');
  assert.match(hintFor("'n=' + 1")!, /string\(x\)/);
});

test('an error that is no known mistake gets no hint', () => {
  assert.equal(hintFor('steps.a +'), undefined);
});
