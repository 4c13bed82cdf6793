/**
 * The HTTP edge: bad input answered with problem+json and stable codes, the process staying up,
 * request ids, health routes, prototype pollution, graceful shutdown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  return (await res.json()) as Record<string, unknown>;
}

describe('the HTTP edge', () => {
  let echo: TestBackend;
  let polluting: TestBackend;
  let gateway: Gateway;

  before(async () => {
    echo = await startBackend((_req, res, body) =>
      json(res, 200, { received: body === '' ? null : JSON.parse(body) }),
    );
    polluting = await startBackend((_req, res) => {
      const payload =
        '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "ok": true}';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(payload);
    });
    gateway = await startTestGateway(`
server: { bodyLimit: 1kb }
services:
  echo:
    kind: http
    url: ${echo.url}
    operations:
      post: { method: POST, path: /echo }
  polluting:
    kind: http
    url: ${polluting.url}
    operations:
      get: { path: /x }
endpoints:
  - method: POST
    path: /orders
    timeout: 500ms
    input:
      body:
        type: object
        required: [sku, quantity]
        properties:
          sku: { type: string }
          quantity: { type: integer, minimum: 1 }
    flow:
      - id: saved
        call: echo.post
        input: { body: "{{ merge({'source': 'gateway'}, request.body) }}" }
    response:
      status: 201
      body: "{{ steps.saved.received }}"
  - method: GET
    path: /search
    input:
      query:
        q: { type: string, required: true }
        limit: { type: integer, minimum: 1, maximum: 50, default: 10 }
    flow:
      - id: result
        map: { q: "{{ request.query.q }}", limit: "{{ request.query.limit }}", next: "{{ request.query.limit + 1 }}" }
  - method: GET
    path: /polluted
    flow:
      - { id: data, call: polluting.get }
      - id: merged
        map: "{{ merge({}, steps.data) }}"
    response:
      body: { data: "{{ steps.data }}", merged: "{{ steps.merged }}" }
`);
  });

  after(async () => {
    await gateway.close();
    await echo.close();
    await polluting.close();
  });

  test('a valid JSON body is validated, passed through a flow and answered with the declared status', async () => {
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'A-1', quantity: 2 }),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { source: 'gateway', sku: 'A-1', quantity: 2 });
  });

  test('malformed JSON gets 400 CHORUS_BAD_JSON', async () => {
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sku": "A-1",',
    });
    assert.equal(res.status, 400);
    assert.equal((await problemOf(res)).code, 'CHORUS_BAD_JSON');
  });

  test('a body over the limit gets 413 CHORUS_BODY_TOO_LARGE', async () => {
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'x'.repeat(2000), quantity: 1 }),
    });
    assert.equal(res.status, 413);
    assert.equal((await problemOf(res)).code, 'CHORUS_BODY_TOO_LARGE');
  });

  test('a wrong content type gets 415 CHORUS_UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'sku=A-1',
    });
    assert.equal(res.status, 415);
    assert.equal((await problemOf(res)).code, 'CHORUS_UNSUPPORTED_MEDIA_TYPE');
  });

  test('a body nested deeper than the limit gets 400 CHORUS_BAD_JSON', async () => {
    const deep = `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`;
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deep,
    });
    assert.equal(res.status, 400);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'CHORUS_BAD_JSON');
    assert.match(String(problem.detail), /deeper than 64 levels/);
  });

  test('/openapi.json serves the OpenAPI document of the endpoints', async () => {
    const res = await fetch(`${gateway.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/healthz',
      '/orders',
      '/polluted',
      '/readyz',
      '/search',
    ]);
  });

  test('a body trickled slower than the deadline gets 504 at the deadline', async () => {
    const { request } = await import('node:http');
    const url = new URL(`${gateway.url}/orders`);
    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': '100' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"sku": "A",');
      // ...and never the rest.
    });
    assert.equal(status, 504);
    assert.ok(performance.now() - started < 2000);
  });

  test('a body that breaks the schema gets 400 naming each field', async () => {
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 0 }),
    });
    assert.equal(res.status, 400);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'CHORUS_VALIDATION_FAILED');
    const fields = (problem.errors as { field: string }[]).map((e) => e.field).sort();
    assert.deepEqual(fields, ['body.quantity', 'body.sku']);
  });

  test('a missing required query parameter gets 400 CHORUS_VALIDATION_FAILED', async () => {
    const res = await fetch(`${gateway.url}/search`);
    assert.equal(res.status, 400);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'CHORUS_VALIDATION_FAILED');
    assert.deepEqual(problem.errors, [{ field: 'query.q', message: 'is required' }]);
  });

  test('query parameters are converted to their declared types, with defaults', async () => {
    const res = await fetch(`${gateway.url}/search?q=jazz`);
    assert.deepEqual(await res.json(), { q: 'jazz', limit: 10, next: 11 });
    const typed = await fetch(`${gateway.url}/search?q=jazz&limit=3`);
    assert.deepEqual(await typed.json(), { q: 'jazz', limit: 3, next: 4 });
    const wrong = await fetch(`${gateway.url}/search?q=jazz&limit=many`);
    assert.equal(wrong.status, 400);
  });

  test('the process stays up after bad input: a good request still succeeds', async () => {
    const res = await fetch(`${gateway.url}/search?q=still-up`);
    assert.equal(res.status, 200);
  });

  test('an unknown path gets 404 and a known path with another method gets 405 with Allow', async () => {
    const missing = await fetch(`${gateway.url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await problemOf(missing)).code, 'CHORUS_ROUTE_NOT_FOUND');
    const wrongMethod = await fetch(`${gateway.url}/search`, { method: 'DELETE' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal((await problemOf(wrongMethod)).code, 'CHORUS_METHOD_NOT_ALLOWED');
  });

  test('x-request-id is honoured when given, generated otherwise, and sent to backends', async () => {
    const given = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123' },
      body: JSON.stringify({ sku: 'A', quantity: 1 }),
    });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
    assert.equal(echo.calls.at(-1)?.headers['x-request-id'], 'abc-123');
    const generated = await fetch(`${gateway.url}/search?q=x`);
    const again = await fetch(`${gateway.url}/search?q=x`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f]{12}-[0-9a-z]+$/);
    assert.notEqual(generated.headers.get('x-request-id'), again.headers.get('x-request-id'));
    const hostile = await fetch(`${gateway.url}/search?q=x`, {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    assert.notEqual(hostile.headers.get('x-request-id'), 'bad id with spaces');
  });

  test('healthz and readyz answer 200', async () => {
    assert.deepEqual(await (await fetch(`${gateway.url}/healthz`)).json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`${gateway.url}/readyz`)).json(), { status: 'ready' });
  });

  test('__proto__ and constructor keys from a client never pollute prototypes', async () => {
    const res = await fetch(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sku": "A", "quantity": 1, "__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(body, '__proto__'), false);
    assert.equal(body.constructor, Object, 'constructor was not replaced by client data');
  });

  test('__proto__ and constructor keys from a backend never pollute prototypes, even through merge()', async () => {
    const res = await fetch(`${gateway.url}/polluted`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: Record<string, unknown>; merged: Record<string, unknown> };
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(body.merged), Object.prototype);
    assert.equal(body.data.ok, true);
    assert.equal(body.merged.ok, true);
  });
});

describe('graceful shutdown', () => {
  test('in-flight requests finish, readiness turns false and new connections are refused', async () => {
    const slow = await startBackend((_req, res) => json(res, 200, { done: true }, 300));
    const gateway = await startTestGateway(`
services:
  slow: { kind: http, url: ${slow.url}, operations: { get: { path: /x } } }
endpoints:
  - { method: GET, path: /slow, flow: [{ id: s, call: slow.get }] }
`);
    try {
      const inFlight = fetch(`${gateway.url}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = gateway.close();
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { done: true });
      await closing;
      await assert.rejects(fetch(`${gateway.url}/slow`));
    } finally {
      await slow.close();
    }
  });
});
