/**
 * A service's HTTP cache in a whole gateway: a backend's Cache-Control decides what the flow
 * reuses; stale-if-error answers with `chorus-stale` while the backend is down or its breaker is
 * open, and a problem once the window is over.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('HTTP cache of a service in a gateway', () => {
  let backend: TestBackend;
  let gateway: Gateway;
  let failing = false;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (failing) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"down":true}');
        return;
      }
      const payload = JSON.stringify({ id: req.url?.split('/').pop(), at: Date.now() });
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'max-age=1, stale-if-error=2',
        etag: `"${req.url}"`,
      });
      res.end(payload);
    });
    gateway = await startTestGateway(`
services:
  items:
    kind: http
    url: ${backend.url}
    httpCache: { operations: [get] }
    circuitBreaker: { consecutiveFailures: 2, cooldown: 30s }
    operations:
      get: { path: "/items/{id}" }
endpoints:
  - id: item
    method: GET
    path: /items/{id}
    flow:
      - id: item
        call: items.get
        input: { params: { id: "{{ request.params.id }}" } }
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test('a fresh answer is reused by the next requests without a backend call', async () => {
    const first = await (await fetch(`${gateway.url}/items/a`)).json();
    const second = await (await fetch(`${gateway.url}/items/a`)).json();
    assert.deepEqual(second, first);
    assert.equal(backend.calls.filter((call) => call.url === '/items/a').length, 1);
  });

  test('stale-if-error: backend down, then breaker open → the stale answer with chorus-stale; a problem after the window', async () => {
    const fresh = await fetch(`${gateway.url}/items/b`);
    assert.equal(fresh.headers.get('chorus-stale'), null);
    const body = await fresh.json();
    failing = true;
    await sleep(1100);
    // The backend answers 503 (twice: the breaker opens), then the breaker refuses: stale each time.
    for (let attempt = 0; attempt < 3; attempt++) {
      const stale = await fetch(`${gateway.url}/items/b`);
      assert.equal(stale.status, 200);
      assert.equal(stale.headers.get('chorus-stale'), 'items');
      assert.deepEqual(await stale.json(), body);
    }
    const calls = backend.calls.length;
    await fetch(`${gateway.url}/items/b`).then((res) => res.arrayBuffer());
    assert.equal(backend.calls.length, calls, 'the open breaker kept the call from the backend');
    await sleep(2100);
    const gone = await fetch(`${gateway.url}/items/b`);
    assert.equal(gone.status, 503);
    assert.equal(((await gone.json()) as { code: string }).code, 'CHORUS_CIRCUIT_OPEN');
  });

  test('httpCache on a service that is not http, or naming an unknown operation, is a load error', async () => {
    await assert.rejects(
      startTestGateway(`
services:
  graph:
    kind: graphql
    url: http://127.0.0.1:9/graphql
    httpCache: {}
    operations:
      q: { query: "{ a }" }
`),
      /httpCache applies to http services; "graph" is graphql/,
    );
    await assert.rejects(
      startTestGateway(`
services:
  items:
    kind: http
    url: http://127.0.0.1:9
    httpCache: { operations: [nope] }
    operations:
      get: { path: /x }
`),
      /no operation "nope" in service "items" \(operations: get\)/,
    );
  });
});
