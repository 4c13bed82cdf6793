/**
 * The flow engine end to end: a real gateway in front of real HTTP backends on loopback.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend, waitFor } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';

describe('flows over HTTP backends', () => {
  let slow: TestBackend;
  let lookup: TestBackend;
  let items: TestBackend;
  let hanging: TestBackend;
  let failing: TestBackend;
  let gateway: Gateway;

  before(async () => {
    // Each of a, b, c takes 100 ms.
    slow = await startBackend((req, res) => json(res, 200, { name: req.url?.slice(1) }, 100));
    lookup = await startBackend((req, res) => {
      const id = req.url?.split('/').pop();
      if (id === 'missing') return json(res, 404, { error: 'not found' });
      json(res, 200, { provider: 'movies', ref: `m-${id}` });
    });
    items = await startBackend((req, res) => {
      if (req.url?.startsWith('/raw/')) {
        // One item per id, spaced as JSON.stringify never would; "bad" answers malformed JSON.
        const id = req.url.slice(5);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(id === 'bad' ? '{ "id": ' : `{ "id" : "${id}" }`);
        return;
      }
      if (req.url === '/raw') {
        // Spacing JSON.stringify would never produce: proves the bytes were forwarded untouched.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{ "kept" :  [1,2 ,3],"as": "sent" }');
        return;
      }
      json(res, 200, { id: req.url?.split('/').pop(), seen: true }, 30);
    });
    hanging = await startBackend(() => {
      /* never answers */
    });
    failing = await startBackend((_req, res) => json(res, 503, { reason: 'maintenance' }));
    process.env.CHORUS_TEST_REGION = 'eu-test-1';
    gateway = await startTestGateway(`
server: { requestTimeout: 5s }
services:
  slow:
    kind: http
    url: ${slow.url}
    operations:
      a: { path: /a }
      b: { path: /b }
      c: { path: /c }
  lookup:
    kind: http
    url: ${lookup.url}
    operations:
      locate: { path: "/locate/{id}" }
  catalog:
    kind: http
    url: ${items.url}
    operations:
      item: { path: "/items/{ref}" }
      raw: { path: /raw }
      rawItem: { path: "/raw/{id}" }
  hanging:
    kind: http
    url: ${hanging.url}
    operations:
      wait: { path: /wait }
  failing:
    kind: http
    url: ${failing.url}
    operations:
      get: { path: /x }
endpoints:
  - method: GET
    path: /parallel
    flow:
      - { id: a, call: slow.a }
      - { id: b, call: slow.b }
      - { id: c, call: slow.c }
    response:
      body: { names: "{{ [steps.a.name, steps.b.name, steps.c.name] }}" }
  - method: GET
    path: /chain/{id}
    flow:
      - id: where
        call: lookup.locate
        input: { params: { id: "{{ request.params.id }}" } }
      - id: item
        call: catalog.item
        input: { params: { ref: "{{ steps.where.ref }}" } }
    response:
      body: { provider: "{{ steps.where.provider }}", item: "{{ steps.item }}" }
  - method: GET
    path: /maybe
    input:
      query: { detail: { type: boolean, default: false } }
    flow:
      - id: detail
        call: slow.a
        when: request.query.detail
    response:
      body: { detail: "{{ steps.detail }}" }
  - method: GET
    path: /many
    flow:
      - id: ids
        map: "{{ [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20] }}"
      - id: each
        call: catalog.item
        forEach: steps.ids
        concurrency: 5
        input: { params: { ref: "{{ item }}" } }
    response:
      body: { count: "{{ size(steps.each) }}", first: "{{ steps.each[0].id }}", last: "{{ steps.each[19].id }}" }
  - method: GET
    path: /fallback
    flow:
      - id: broken
        call: failing.get
        onError: { fallback: '{"status": error.status, "reason": error.body.reason}' }
    response:
      body: { broken: "{{ steps.broken }}" }
  - method: GET
    path: /skip
    flow:
      - { id: broken, call: failing.get, onError: skip }
      - { id: a, call: slow.a }
    response:
      body: { a: "{{ steps.a.name }}", broken: "{{ steps.broken }}" }
  - method: GET
    path: /fail
    flow:
      - { id: broken, call: failing.get }
  - method: GET
    path: /guarded
    flow:
      - { id: a, call: slow.a }
      - id: b
        call: slow.b
        when: steps.a.missing == "x"
        onError: skip
    response:
      body: { a: "{{ steps.a.name }}", b: "{{ steps.b }}" }
  - method: GET
    path: /cases/{kind}
    flow:
      - { id: info, map: { kind: "{{ request.params.kind }}" } }
    response:
      - when: steps.info.kind == "gone"
        status: 410
        body: { detail: "{{ request.params.kind }} is gone" }
      - when: steps.info.kind == "new"
        status: 201
        headers: { location: "/cases/{{ request.params.kind }}" }
      - body: { kind: "{{ steps.info.kind }}" }
  - method: GET
    path: /forward
    flow:
      - { id: raw, call: catalog.raw }
  - method: GET
    path: /forward-each/{ids}
    flow:
      - { id: each, call: catalog.rawItem, forEach: 'request.params.ids.split(",")', input: { params: { id: "{{ item }}" } } }
  - method: GET
    path: /forward-read
    flow:
      - { id: raw, call: catalog.raw }
      - { id: count, map: "{{ size(steps.raw.kept) }}" }
    response:
      body: "{{ steps.raw }}"
  - method: GET
    path: /forward-partial
    flow:
      - { id: broken, call: failing.get, onError: skip }
      - { id: raw, call: catalog.raw }
  - method: GET
    path: /env
    flow:
      - { id: e, map: { region: "{{ env.CHORUS_TEST_REGION }}" } }
  - method: GET
    path: /bad-expression
    flow:
      - { id: a, call: slow.a }
      - { id: b, map: { phone: "{{ steps.a.phone }}" } }
  - method: GET
    path: /hang
    timeout: 300ms
    flow:
      - { id: wait, call: hanging.wait }
  - method: GET
    path: /step-timeout
    timeout: 5s
    flow:
      - { id: wait, call: hanging.wait, timeout: 200ms }
  - method: GET
    path: /hang-long
    timeout: 5s
    flow:
      - { id: wait, call: hanging.wait }
`);
  });

  after(async () => {
    await gateway.close();
    await Promise.all([slow, lookup, items, hanging, failing].map((b) => b.close()));
  });

  test('three independent steps run concurrently', async () => {
    // Warm the pools first: the claim is about scheduling, not about opening connections.
    await (await fetch(`${gateway.url}/parallel`)).arrayBuffer();
    const started = performance.now();
    const res = await fetch(`${gateway.url}/parallel`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { names: ['a', 'b', 'c'] });
    assert.ok(elapsed < 200, `3 × 100 ms backends answered in ${elapsed.toFixed(0)} ms, expected < 200 ms`);
    assert.ok(slow.maxInFlight >= 3, 'all three calls were in flight at once');
  });

  test('a dependent chain passes a lookup result into the path of the next call', async () => {
    const res = await fetch(`${gateway.url}/chain/42`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { provider: 'movies', item: { id: 'm-42', seen: true } });
    assert.ok(items.calls.some((call) => call.url === '/items/m-42'));
  });

  test('a failing lookup in a chain answers 502 naming the service and stops the chain', async () => {
    const before = items.calls.length;
    const res = await fetch(`${gateway.url}/chain/missing`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_STATUS');
    assert.equal(problem.service, 'lookup');
    assert.equal(problem.step, 'where');
    assert.equal(problem.upstreamStatus, 404);
    assert.equal(items.calls.length, before);
  });

  test('when skips a step whose condition is false', async () => {
    const before = slow.calls.length;
    const skipped = await fetch(`${gateway.url}/maybe`);
    assert.deepEqual(await skipped.json(), { detail: null });
    assert.equal(slow.calls.length, before);
    const run = await fetch(`${gateway.url}/maybe?detail=true`);
    assert.deepEqual(await run.json(), { detail: { name: 'a' } });
    assert.equal(slow.calls.length, before + 1);
  });

  test('forEach over 20 items with concurrency 5 never has more than 5 calls in flight', async () => {
    items.maxInFlight = 0;
    const res = await fetch(`${gateway.url}/many`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { count: 20, first: '1', last: '20' });
    assert.equal(items.maxInFlight, 5);
  });

  test('onError fallback yields the fallback value, which can read the error', async () => {
    const res = await fetch(`${gateway.url}/fallback`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'broken');
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.broken, { status: 503, reason: 'maintenance' });
    assert.deepEqual(body.warnings, [
      {
        step: 'broken',
        code: 'CHORUS_UPSTREAM_STATUS',
        message: 'service "failing" operation "get" answered 503',
      },
    ]);
  });

  test('onError skip gives null and marks the answer partial', async () => {
    const res = await fetch(`${gateway.url}/skip`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'broken');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.a, 'a');
    assert.equal(body.broken, null);
    assert.equal((body.warnings as unknown[]).length, 1);
  });

  test('onError covers a step condition that fails to evaluate', async () => {
    const res = await fetch(`${gateway.url}/guarded`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'b');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.a, 'a');
    assert.equal(body.b, null);
  });

  test('the first response case whose when holds answers, else the last', async () => {
    const gone = await fetch(`${gateway.url}/cases/gone`);
    assert.equal(gone.status, 410);
    assert.deepEqual(await gone.json(), { detail: 'gone is gone' });
    const created = await fetch(`${gateway.url}/cases/new`);
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/cases/new');
    const plain = await fetch(`${gateway.url}/cases/other`);
    assert.equal(plain.status, 200);
    assert.deepEqual(await plain.json(), { kind: 'other' });
  });

  test('a call whose answer is the whole response body is forwarded byte for byte', async () => {
    const res = await fetch(`${gateway.url}/forward`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await res.text(), '{ "kept" :  [1,2 ,3],"as": "sent" }');
  });

  test('a forEach step whose answers are the whole response is forwarded as one array of their bytes', async () => {
    const res = await fetch(`${gateway.url}/forward-each/a,b,c`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await res.text(), '[{ "id" : "a" },{ "id" : "b" },{ "id" : "c" }]');
  });

  test('a forwarded forEach item that is malformed JSON fails the step with 502, as a decoded one would', async () => {
    const res = await fetch(`${gateway.url}/forward-each/a,bad`);
    assert.equal(res.status, 502);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_DECODE');
    assert.equal(problem.step, 'each');
  });

  test('an answer another step reads is decoded, and re-encoded in the response', async () => {
    const res = await fetch(`${gateway.url}/forward-read`);
    assert.equal(await res.text(), '{"kept":[1,2,3],"as":"sent"}');
  });

  test('a forwarded answer still gets the warnings of a partial flow', async () => {
    const res = await fetch(`${gateway.url}/forward-partial`);
    assert.equal(res.headers.get('chorus-partial'), 'broken');
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.kept, [1, 2, 3]);
    assert.equal((body.warnings as unknown[]).length, 1);
  });

  test('expressions see the environment variables they name, read when the config loads', async () => {
    const res = await fetch(`${gateway.url}/env`);
    assert.deepEqual(await res.json(), { region: 'eu-test-1' });
  });

  test('an expression that fails at run time answers 500 naming the step and the expression', async () => {
    const res = await fetch(`${gateway.url}/bad-expression`);
    assert.equal(res.status, 500);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_EXPRESSION_FAILED');
    assert.equal(problem.step, 'b');
    assert.match(String(problem.detail), /expression "steps\.a\.phone": No such key: phone/);
  });

  test('a failing step without onError answers 502 problem+json', async () => {
    const res = await fetch(`${gateway.url}/fail`);
    assert.equal(res.status, 502);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_STATUS');
    assert.equal(problem.upstreamStatus, 503);
    assert.equal(problem.reason, undefined, 'the backend body is not leaked');
  });

  test('a hanging backend gives 504 problem+json at the deadline and its connection is closed', async () => {
    const closedBefore = hanging.closedSockets;
    const started = performance.now();
    const res = await fetch(`${gateway.url}/hang`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_DEADLINE_EXCEEDED');
    assert.ok(elapsed >= 280 && elapsed < 1000, `answered after ${elapsed.toFixed(0)} ms, deadline 300 ms`);
    await waitFor(() => hanging.closedSockets > closedBefore);
  });

  test('a step timeout shorter than the deadline gives 504 CHORUS_UPSTREAM_TIMEOUT naming the service', async () => {
    const started = performance.now();
    const res = await fetch(`${gateway.url}/step-timeout`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_TIMEOUT');
    assert.equal(problem.service, 'hanging');
    assert.ok(
      elapsed >= 180 && elapsed < 1000,
      `answered after ${elapsed.toFixed(0)} ms, step timeout 200 ms`,
    );
  });

  test('a client that disconnects aborts the in-flight backend calls', async () => {
    const abortedBefore = hanging.aborted;
    const callsBefore = hanging.calls.length;
    const url = new URL(`${gateway.url}/hang-long`);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname });
    req.on('error', () => {});
    req.end();
    await waitFor(() => hanging.calls.length > callsBefore);
    req.destroy();
    await waitFor(() => hanging.aborted > abortedBefore, 1000);
  });
});
