/**
 * The functions Chorus adds to CEL, each as docs/expressions.md shows it: compiled as the config
 * compiles them, evaluated on plain JSON data.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileExpression } from './cel.ts';

const ALL = new Set(['request', 'steps', 'env', 'vars', 'page', 'batch', 'result']);

function run(source: string, scope: Record<string, unknown> = {}): unknown {
  return compileExpression(source, ALL).evaluate(scope);
}

describe('link and urlQuery (pagination)', () => {
  test('link finds the target of a relation in a Link header', () => {
    assert.equal(
      run(
        `link('<https://api.example/x?page=2>; rel="next", <https://api.example/x?page=9>; rel="last"', 'next')`,
      ),
      'https://api.example/x?page=2',
    );
  });

  test('link reads the link header of a headers map, and is null when there is none', () => {
    const headers = { link: '</x?page=3>; rel="prev next"' };
    assert.equal(run("link(page.headers, 'next')", { page: { headers } }), '/x?page=3');
    assert.equal(run("link(page.headers, 'next')", { page: { headers: {} } }), null);
    assert.equal(run("link('not a link header', 'next')"), null);
  });

  test('urlQuery gives the query of a URL as a map, a repeated name as a list', () => {
    assert.deepEqual(run("urlQuery('/flights?cursor=c2&n=10')"), { cursor: 'c2', n: '10' });
    assert.deepEqual(run("urlQuery('https://h/x?a=1&a=2')"), { a: ['1', '2'] });
    assert.equal(run('urlQuery(null)'), null);
  });

  test('urlQuery never copies a __proto__ parameter', () => {
    const query = run("urlQuery('/x?__proto__=1&ok=2')") as Record<string, unknown>;
    assert.deepEqual(Object.keys(query), ['ok']);
    assert.equal(({} as Record<string, unknown>).ok, undefined);
  });
});

describe('rounding', () => {
  test('roundHalfUp rounds a tie away from zero, as written in decimal (1.005 → 1.01)', () => {
    assert.equal(run('roundHalfUp(2.345, 2)'), 2.35);
    assert.equal(run('roundHalfUp(1.005, 2)'), 1.01);
    assert.equal(run('roundHalfUp(-2.5, 0)'), -3);
    assert.equal(run('roundHalfUp(7, 2)'), 7);
  });

  test("roundHalfEven rounds a tie to the even digit (banker's rounding)", () => {
    assert.equal(run('roundHalfEven(2.345, 2)'), 2.34);
    assert.equal(run('roundHalfEven(2.355, 2)'), 2.36);
    assert.equal(run('roundHalfEven(2.5, 0)'), 2);
    assert.equal(run('roundHalfEven(3.5, 0)'), 4);
    assert.equal(run('roundHalfEven(2.3451, 2)'), 2.35);
  });

  test('ceil and floor give whole numbers', () => {
    assert.equal(run('ceil(1.2)'), 2);
    assert.equal(run('floor(-1.2)'), -2);
    assert.equal(run('ceil(double(steps.o.total) / 10.0)', { steps: { o: { total: 41 } } }), 5);
  });

  test('a number of decimals out of 0..15 is an error', () => {
    assert.throws(() => run('roundHalfUp(1.5, 16)'), /0 to 15 decimals/);
  });
});

describe('maps from lists, and totals per group', () => {
  const fares = [
    { currency: 'EUR', price: 10.1 },
    { currency: 'USD', price: 3 },
    { currency: 'EUR', price: 0.2 },
    { currency: 'GBP' },
  ];

  test('fromEntries builds a map from [key, value] pairs or {key, value} maps', () => {
    assert.deepEqual(run("fromEntries([['a', 1], ['b', 2]])"), { a: 1, b: 2 });
    assert.deepEqual(run("fromEntries([{'key': 'a', 'value': 1}])"), { a: 1 });
    assert.deepEqual(
      run('fromEntries(steps.x.map(e, [e.code, e.n]))', { steps: { x: [{ code: 'k', n: 5 }] } }),
      {
        k: 5,
      },
    );
  });

  test('fromEntries drops __proto__ keys', () => {
    const made = run("fromEntries([['__proto__', {'polluted': true}], ['ok', 1]])") as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(made), ['ok']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('keyBy builds a map keyed by a field of each item (the first of a key wins)', () => {
    assert.deepEqual(
      run("keyBy(steps.users, 'id')", { steps: { users: [{ id: 'u1' }, { id: 'u2' }, { id: 'u1', n: 2 }] } }),
      {
        u1: { id: 'u1' },
        u2: { id: 'u2' },
      },
    );
  });

  test('sumBy, minBy, maxBy and countBy reduce per group', () => {
    const scope = { steps: { fares } };
    const totals = run("sumBy(steps.fares, 'currency', 'price')", scope) as Record<string, number>;
    assert.equal(roundTo(totals.EUR!), 10.3);
    assert.equal(totals.USD, 3);
    assert.equal('GBP' in totals, false, 'an item without the value does not count');
    assert.deepEqual(run("minBy(steps.fares, 'currency', 'price')", scope), { EUR: 0.2, USD: 3 });
    assert.deepEqual(run("maxBy(steps.fares, 'currency', 'price')", scope), { EUR: 10.1, USD: 3 });
    assert.deepEqual(run("countBy(steps.fares, 'currency')", scope), { EUR: 2, USD: 1, GBP: 1 });
  });

  test('a total per group, each rounded with roundHalfUp (totals from a map step)', () => {
    const totals = run("sumBy(steps.fares, 'currency', 'price')", { steps: { fares } });
    assert.deepEqual(
      run('fromEntries(keys(steps.totals).map(k, [k, roundHalfUp(steps.totals[k], 2)]))', {
        steps: { totals },
      }),
      { EUR: 10.3, USD: 3 },
    );
  });

  test('min and max of a list of numbers; null for an empty list', () => {
    assert.equal(run('min([3, 1.5, 2])'), 1.5);
    assert.equal(run('max([3, 1.5, 2])'), 3);
    assert.equal(run('min([])'), null);
  });
});

function roundTo(x: number): number {
  return Math.round(x * 100) / 100;
}
