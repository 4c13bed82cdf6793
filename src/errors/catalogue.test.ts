import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { ChorusError, ERROR_CATALOGUE, toProblem } from './catalogue.ts';

describe('error catalogue', () => {
  test('docs/errors.md lists every code with its status, and no code the catalogue lacks', async () => {
    const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(CHORUS_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    const documented = new Map(rows as [string, number][]);
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.equal(documented.get(code), entry.status, `${code} is documented with status ${entry.status}`);
    }
    assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CATALOGUE).sort());
  });

  test('a problem document carries the code, status, hint and request id', () => {
    const problem = toProblem(
      new ChorusError('CHORUS_UPSTREAM_TIMEOUT', 'too slow', { extras: { service: 'lookup' } }),
      'req-1',
    );
    assert.equal(problem.code, 'CHORUS_UPSTREAM_TIMEOUT');
    assert.equal(problem.status, 504);
    assert.equal(problem.detail, 'too slow');
    assert.equal(problem.service, 'lookup');
    assert.equal(problem.requestId, 'req-1');
    assert.match(problem.hint, /timeout/);
  });

  test('an unknown error becomes CHORUS_INTERNAL without leaking its message', () => {
    const problem = toProblem(new Error('secret connection string'), 'req-2');
    assert.equal(problem.code, 'CHORUS_INTERNAL');
    assert.equal(problem.status, 500);
    assert.doesNotMatch(JSON.stringify(problem), /secret/);
  });

  test('extras cannot overwrite the standard fields', () => {
    const problem = toProblem(
      new ChorusError('CHORUS_BAD_JSON', 'x', { extras: { status: 200, code: 'NOPE' } }),
    );
    assert.equal(problem.status, 400);
    assert.equal(problem.code, 'CHORUS_BAD_JSON');
  });
});
