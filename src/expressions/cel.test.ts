import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileExpression, type Scope } from './cel.ts';
import { compileTemplate, type TemplateIssue } from './template.ts';

const ALL = new Set(['request', 'steps', 'env', 'vars', 'item', 'index']);
const evaluate = (source: string, scope: Scope = {}): unknown =>
  compileExpression(source, ALL).evaluate(scope);

describe('CEL expressions', () => {
  test('JSON numbers and CEL integer literals mix in arithmetic, and ints come out as numbers', () => {
    assert.equal(evaluate('request.query.limit + 1', { request: { query: { limit: 10 } } }), 11);
    assert.equal(evaluate('2 * request.n', { request: { n: 1.5 } }), 3);
    assert.equal(evaluate('size([1, 2, 3])'), 3);
    assert.equal(evaluate('uint(3)'), 3);
    assert.equal(evaluate('optional.of(2).orValue(1)'), 2);
  });

  test('merge, coalesce, sortBy, groupBy, flatten, distinct, sum, pick and omit work on JSON data', () => {
    const steps = {
      a: [
        { name: 'b', score: 2, kind: 'x' },
        { name: 'a', score: 9, kind: 'y' },
        { name: 'c', score: 5, kind: 'x' },
      ],
    };
    assert.deepEqual(evaluate('merge({"a": 1, "b": 1}, {"b": 2})'), { a: 1, b: 2 });
    assert.deepEqual(evaluate('merge([{"a": 1}, {"b": 2}, {"a": 3}])'), { a: 3, b: 2 });
    assert.equal(evaluate('coalesce(request.x, request.y, "z")', { request: { x: null, y: null } }), 'z');
    assert.deepEqual(
      (evaluate('sortBy(steps.a, "score", "desc")', { steps }) as { name: string }[]).map((i) => i.name),
      ['a', 'c', 'b'],
    );
    assert.deepEqual(Object.keys(evaluate('groupBy(steps.a, "kind")', { steps }) as object), ['x', 'y']);
    assert.deepEqual(evaluate('flatten([[1, 2], [3], []])'), [1, 2, 3]);
    assert.deepEqual(evaluate('distinct(["a", "b", "a"])'), ['a', 'b']);
    assert.equal(evaluate('sum(steps.a.map(i, i.score))', { steps }), 16);
    assert.deepEqual(evaluate('pick({"a": 1, "b": 2}, ["a"])'), { a: 1 });
    assert.deepEqual(evaluate('omit({"a": 1, "b": 2}, ["a"])'), { b: 2 });
  });

  test('string and date helpers', () => {
    assert.equal(evaluate('"Ünïcode".lower()'), 'ünïcode');
    assert.equal(evaluate('"a-b-c".replaceAll("-", "/")'), 'a/b/c');
    assert.equal(evaluate('"7".padStart(3, "0")'), '007');
    assert.equal(evaluate('isoDate(timestamp("2024-05-06T07:08:09Z"))'), '2024-05-06');
    assert.equal(evaluate('epochMillis(timestamp("1970-01-01T00:00:01Z"))'), 1000);
    assert.match(evaluate('now()') as string, /^\d{4}-\d\d-\d\dT/);
    assert.equal(evaluate('toJson({"a": [1, true]})'), '{"a":[1,true]}');
  });

  test('merge never copies __proto__ or constructor keys', () => {
    // JSON.parse makes "__proto__" an own key: exactly what a naive merge would copy into a prototype.
    const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "ok": 1}');
    const merged = evaluate('merge({}, request.body)', { request: { body: hostile } }) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(merged), ['ok']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a plain path reads own keys only and fails on a missing key; .? and has() guard it', () => {
    const scope = { steps: { a: { b: 1 } } };
    assert.equal(evaluate('steps.a.b', scope), 1);
    assert.throws(() => evaluate('steps.a.c', scope), /No such key: c/);
    assert.throws(() => evaluate('steps.a.constructor', scope), /No such key: constructor/);
    assert.equal(evaluate('steps.a.?c.orValue(2)', scope), 2);
    assert.equal(evaluate('has(steps.a.c)', scope), false);
  });

  test('the steps an expression reads are its dependencies', () => {
    const expr = compileExpression(
      'steps.a.items.map(i, i.id + steps.b.prefix).size() > 0 && has(steps.c.x)',
      ALL,
    );
    assert.deepEqual([...expr.stepRefs].sort(), ['a', 'b', 'c']);
  });

  test('reading steps by a computed name is refused: dependencies must be known at load', () => {
    assert.throws(() => compileExpression('steps[request.query.which]', ALL), /read step outputs by name/);
  });
});

describe('templates', () => {
  test('a whole-string expression keeps its type; embedded ones interpolate into a string', () => {
    const issues: TemplateIssue[] = [];
    const template = compileTemplate(
      {
        n: '{{ request.n }}',
        s: 'id-{{ request.n }}-{{ request.o }}',
        o: '{{ request.o }}',
        fixed: [1, 'x'],
      },
      ALL,
      issues,
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(template.evaluate({ request: { n: 5, o: { a: 1 } } }), {
      n: 5,
      s: 'id-5-{"a":1}',
      o: { a: 1 },
      fixed: [1, 'x'],
    });
  });

  test('a template without expressions is constant and frozen', () => {
    const template = compileTemplate({ a: { b: [1] } }, ALL, []);
    assert.equal(template.constant, true);
    assert.ok(Object.isFrozen((template.evaluate({}) as { a: object }).a));
  });

  test('__proto__ cannot be a template key', () => {
    const issues: TemplateIssue[] = [];
    compileTemplate(JSON.parse('{"__proto__": {"x": 1}}'), ALL, issues);
    assert.equal(issues.length, 1);
  });

  test('a conditional whose branches differ in type compiles and answers either value', () => {
    const expr = compileExpression(
      'request.n > 0 ? {"score": request.n} : request.n == 0 ? "none" : null',
      ALL,
    );
    assert.deepEqual(expr.evaluate({ request: { n: 5 } }), { score: 5 });
    assert.equal(expr.evaluate({ request: { n: 0 } }), 'none');
    assert.equal(expr.evaluate({ request: { n: -1 } }), null);
  });

  test('parser wording becomes plain words (the hints for known mistakes are added by hints.ts)', () => {
    assert.throws(() => compileExpression('steps.a.x +', ALL), /the expression ends too early/);
    assert.throws(() => compileExpression('(1 + 2', ALL), /'\)' is missing at the end/);
    assert.throws(() => compileExpression('1 = 2', ALL), /the character '=' is not allowed here$/);
  });
});
