/**
 * A request deadline names what was pending (issue 14, item 7): the 504 CHORUS_DEADLINE_EXCEEDED
 * lists the steps still running when it fired, each with its service and operation, and names
 * the first as step/service/operation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';

describe('the deadline names the pending steps', () => {
  let backend: TestBackend;
  let gateway: Gateway;
  before(async () => {
    // /slow never answers; /fast answers at once.
    backend = await startBackend((req, res) => {
      if (req.url === '/fast') json(res, 200, { ok: true });
    });
    gateway = await startTestGateway(`
services:
  catalog:
    kind: http
    url: ${backend.url}
    timeout: 10s
    operations:
      slow: { path: /slow }
      fast: { path: /fast }
  stock:
    kind: http
    url: ${backend.url}
    timeout: 10s
    operations:
      level: { path: /slow }
endpoints:
  - method: GET
    path: /one
    timeout: 200ms
    flow:
      - { id: item, call: catalog.slow }
    response:
      body: "{{ steps.item }}"
  - method: GET
    path: /two
    timeout: 200ms
    flow:
      - { id: first, call: catalog.fast }
      - { id: item, call: catalog.slow, after: [first] }
      - { id: level, call: stock.level, after: [first] }
      - { id: never, call: catalog.fast, after: [item] }
    response:
      body: { item: "{{ steps.item }}", level: "{{ steps.level }}" }
`);
  });
  after(async () => {
    await gateway.close();
    await backend.close();
  });

  async function problemOf(
    path: string,
  ): Promise<{ status: number; ms: number; problem: Record<string, unknown> }> {
    const started = performance.now();
    const res = await fetch(gateway.url + path);
    const problem = (await res.json()) as Record<string, unknown>;
    return { status: res.status, ms: performance.now() - started, problem };
  }

  test('a single pending step: step, service and operation, and the pending list', async () => {
    const { status, ms, problem } = await problemOf('/one');
    assert.equal(status, 504);
    assert.equal(problem.code, 'CHORUS_DEADLINE_EXCEEDED');
    assert.equal(problem.step, 'item');
    assert.equal(problem.service, 'catalog');
    assert.equal(problem.operation, 'slow');
    assert.deepEqual(problem.pending, [{ step: 'item', service: 'catalog', operation: 'slow' }]);
    assert.ok(ms < 1000, `answered after ${ms} ms`);
  });

  test('parallel pending steps are all named; finished and unstarted ones are not', async () => {
    const { status, problem } = await problemOf('/two');
    assert.equal(status, 504);
    assert.equal(problem.code, 'CHORUS_DEADLINE_EXCEEDED');
    assert.deepEqual(problem.pending, [
      { step: 'item', service: 'catalog', operation: 'slow' },
      { step: 'level', service: 'stock', operation: 'level' },
    ]);
    assert.equal(problem.step, 'item');
    assert.match(
      String(problem.detail),
      /still pending: step "item" \(catalog\.slow\), "level" \(stock\.level\)/,
    );
  });
});
