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
