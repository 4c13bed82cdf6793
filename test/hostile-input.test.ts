/**
 * Hostile input, generated (fast-check): 600 requests written raw on sockets and 300 sent through
 * a client (fetch, i.e. undici) at a gateway with a body-schema endpoint and a path/query endpoint
 * over a local backend, and its built-in routes. Paths with odd percent-encodings and dot segments,
 * control characters and non-ASCII bytes anywhere, headers duplicated, injected (CRLF) and huge,
 * unknown and malformed methods, flooded queries, bodies invalid, deep, wide, huge, mislabelled
 * and full of __proto__/constructor keys, broken framing (CL+TE, two Content-Lengths).
 * Every request gets an answer with a status; every 4xx/5xx is problem+json; p99 ≤ 100 ms; the
 * process stays up and its memory bounded; no prototype is polluted.
 * CI runs with seed 42; elsewhere the seed is random and printed, to replay a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';
import { exchange, type TimedAnswer } from './support/raw-http.ts';

const SEED = process.env.CI ? 42 : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RAW_RUNS = 600;
const CLIENT_RUNS = 300;
const PROBLEM = /^application\/problem\+json/;

/** What one request got, for the figures. */
interface Seen {
  status: number;
  problem: boolean;
  ms: number;
  error: string | undefined;
}

const seen: Seen[] = [];

// ---- generators -------------------------------------------------------------------------------

const segment = fc.oneof(
  fc.constantFrom(
    'orders',
    'items',
    'healthz',
    'readyz',
    'openapi.json',
    'metrics',
    'nope',
    '..',
    '.',
    '',
    '%2e%2e',
    '%2F',
    '%00',
    '%',
    '%zz',
    '%C3%A9',
    '%FF%FE',
    '%252e',
    '__proto__',
    'constructor',
    'prototype',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer({ min: 1, max: 3000 }).map((n) => 'a'.repeat(n)),
);

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?limit=5',
    '?limit=-1',
    '?limit=abc',
    '?limit=1e400',
    '?limit=5&limit=6',
    '?__proto__[x]=1',
  ),
  fc.constantFrom('?constructor[prototype][x]=1', '?%00=%00', '?a=%', '?=&=&&', '?a=%E0%A4%A'),
  fc.integer({ min: 10, max: 1500 }).map((n) => `?${'a=1&'.repeat(n)}`),
  fc
    .integer({ min: 10, max: 800 })
    .map((n) => `?${Array.from({ length: n }, (_, i) => `k${i}=v`).join('&')}`),
  fc.string({ maxLength: 30 }).map((q) => `?${q}`),
);

const path = fc
  .tuple(fc.array(segment, { minLength: 0, maxLength: 5 }), query, fc.boolean())
  .map(([segments, q, slash]) => `/${segments.join('/')}${slash ? '/' : ''}${q}`);

const bodyText = fc.oneof(
  fc.constant('{"sku":"a-1","quantity":2}'),
  fc.constant(''),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '{"__proto__":{"polluted":true},"sku":"x","quantity":1}',
    '{"constructor":{"prototype":{"polluted":true}},"sku":"x","quantity":1}',
    '{"sku":"x","quantity":1,"__proto__":null}',
    '{"sku":{"__proto__":{"polluted":true}},"quantity":"1"}',
    '[{"__proto__":1}]',
    '{"sku":"x","quantity":1',
    '{"sku":"x",,"quantity":1}',
    '\uFEFF{"sku":"x","quantity":1}',
    'null',
    '1e999999',
    '"\\ud800"',
  ),
  fc.integer({ min: 10, max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 10, max: 2000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc
    .integer({ min: 10, max: 6000 })
    .map((n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])))),
  fc
    .integer({ min: 10, max: 20000 })
    .map((n) => JSON.stringify({ sku: 'x', quantity: 1, items: Array.from({ length: n }, () => 1) })),
  fc.integer({ min: 60_000, max: 400_000 }).map((n) => JSON.stringify({ sku: 'x'.repeat(n), quantity: 1 })),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  '',
  undefined,
);

const headerName = fc.oneof(
  fc.constantFrom(
    'x-request-id',
    'accept',
    'origin',
    'authorization',
    'cookie',
    'x-forwarded-for',
    'traceparent',
    'access-control-request-method',
    'expect',
    'connection',
    'upgrade',
    '__proto__',
    'constructor',
    'host',
  ),
  fc.string({ minLength: 1, maxLength: 12 }),
);

const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    'a\r\nx-injected: 1',
    'a\nb',
    'a\rb',
    'a\u0000b',
    '\r\n\r\n',
    'caf\u00e9',
    '😀',
    '100-continue',
    'close',
  ),
  fc.integer({ min: 100, max: 24_000 }).map((n) => 'v'.repeat(n)),
);

const method = fc.constantFrom(
  'GET',
  'GET',
  'POST',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'CONNECT',
  'BREW',
  'G@T',
  'get',
  '',
);

const framing = fc.constantFrom(
  'length',
  'length',
  'length',
  'chunked',
  'none',
  'two-lengths',
  'length-and-chunked',
);

// Half of the requests aim at the endpoints, so that bodies and queries reach them.
const target = fc.oneof(
  { weight: 2, arbitrary: path },
  { weight: 2, arbitrary: fc.constantFrom('/orders', '/orders/', '/orders?x=1') },
  { weight: 1, arbitrary: fc.constantFrom('/items/42', '/items/42?limit=3', '/items/%2e%2e?limit=1e3') },
);

const rawRequest = fc.record({
  method: fc.oneof({ weight: 2, arbitrary: method }, { weight: 1, arbitrary: fc.constant('POST') }),
  path: target,
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
  contentType,
  body: bodyText,
  framing,
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra'),
});

type RawRequest = typeof rawRequest extends fc.Arbitrary<infer T> ? T : never;

/** The bytes of a generated request: always terminated, so the server can answer without waiting. */
function bytesOf(r: RawRequest): Buffer {
  const body = Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.path} ${r.version}`, 'Host: gateway.test', 'Connection: close'];
  if (r.contentType !== undefined) lines.push(`Content-Type: ${r.contentType}`);
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  let payload = body;
  if (r.framing === 'length') lines.push(`Content-Length: ${body.length}`);
  else if (r.framing === 'two-lengths')
    lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
  else if (r.framing === 'chunked' || r.framing === 'length-and-chunked') {
    if (r.framing === 'length-and-chunked') lines.push(`Content-Length: ${body.length}`);
    lines.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([
      body.length > 0 ? Buffer.from(`${body.length.toString(16)}\r\n`) : Buffer.alloc(0),
      body,
      body.length > 0 ? Buffer.from('\r\n') : Buffer.alloc(0),
      Buffer.from('0\r\n\r\n'),
    ]);
  } else payload = Buffer.alloc(0);
  // Header text as UTF-8 bytes: non-ASCII stays in, as a hostile client would send it.
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), payload]);
}

const printable = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());

const clientRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
  path: fc.oneof(target, fc.constant('/items/%E2%82%AC?limit=2')),
  headers: fc.array(
    fc.tuple(
      fc.constantFrom(
        'x-a',
        'accept',
        'origin',
        'authorization',
        'x-request-id',
        'x-forwarded-for',
        'cookie',
      ),
      printable,
    ),
    { maxLength: 8 },
  ),
  contentType,
  body: bodyText,
});

// ---- the suite --------------------------------------------------------------------------------

/** Checks one answer and records it. */
function check(answer: TimedAnswer, what: string): void {
  const problem = PROBLEM.test(answer.headers['content-type'] ?? '');
  seen.push({ status: answer.status, problem, ms: answer.ms, error: answer.error });
  assert.ok(answer.status >= 100 && answer.status <= 599, `${what}: no answer (${answer.error})`);
  if (answer.status >= 400) assert.ok(problem, `${what}: ${answer.status} is not problem+json`);
  assert.equal(answer.status >= 500 && answer.status !== 501, false, `${what}: a 5xx (${answer.status})`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a prototype was polluted');
}

describe(`hostile input (seed ${SEED})`, () => {
  let backend: TestBackend;
  let gateway: Gateway;
  let port: number;

  before(async () => {
    backend = await startBackend((_req, res, body) => json(res, 200, { echoed: body.length }));
    gateway = await startTestGateway(`
server: { bodyLimit: 256kb, jsonDepthLimit: 32 }
services:
  store:
    kind: http
    url: ${backend.url}
    operations:
      save: { method: POST, path: /orders }
      find: { path: "/items/{id}" }
endpoints:
  - method: POST
    path: /orders
    input:
      body:
        type: object
        required: [sku, quantity]
        properties:
          sku: { type: string, maxLength: 64 }
          quantity: { type: integer, minimum: 1 }
    flow:
      - { id: saved, call: store.save, input: { body: "{{ request.body }}" } }
    response: { status: 201, body: "{{ steps.saved }}" }
  - method: GET
    path: "/items/{id}"
    input:
      query:
        limit: { type: integer, minimum: 1, maximum: 50, default: 10 }
    flow:
      - { id: item, call: store.find, input: { params: { id: "{{ request.params.id }}" } } }
    response: { body: { item: "{{ steps.item }}", limit: "{{ request.query.limit }}" } }
`);
    port = Number(new URL(gateway.url).port);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test(`${RAW_RUNS} generated requests written raw on sockets are each answered, errors as problem+json`, async () => {
    await fc.assert(
      fc.asyncProperty(rawRequest, async (r) => {
        const answer = await exchange(port, bytesOf(r), { head: r.method === 'HEAD', timeoutMs: 3000 });
        check(answer, `${r.method} ${r.path.slice(0, 80)}`);
      }),
      { seed: SEED, numRuns: RAW_RUNS, endOnFailure: true },
    );
  });

  test(`${CLIENT_RUNS} generated requests sent through a client (fetch) are each answered, errors as problem+json`, async () => {
    await fc.assert(
      fc.asyncProperty(clientRequest, async (r) => {
        const headers = new Headers();
        for (const [name, value] of r.headers) headers.append(name, value);
        if (r.contentType) headers.set('content-type', r.contentType);
        const hasBody = r.method !== 'GET' && r.method !== 'HEAD';
        let request: Request;
        try {
          request = new Request(`${gateway.url}${r.path}`, {
            method: r.method,
            headers,
            ...(hasBody ? { body: r.body } : {}),
            signal: AbortSignal.timeout(3000),
          });
        } catch {
          // What the client itself refuses to send is not sent: generate another.
          fc.pre(false);
          return;
        }
        const started = performance.now();
        let answer: TimedAnswer;
        try {
          const res = await fetch(request);
          const body = await res.text();
          answer = {
            status: res.status,
            headers: Object.fromEntries(res.headers),
            body,
            ms: performance.now() - started,
            error: undefined,
          };
        } catch (error) {
          answer = {
            status: 0,
            headers: {},
            body: '',
            ms: performance.now() - started,
            error: String(error),
          };
        }
        check(answer, `${r.method} ${r.path.slice(0, 80)}`);
      }),
      { seed: SEED, numRuns: CLIENT_RUNS, endOnFailure: true },
    );
  });

  test('the figures: p99 ≤ 100 ms, the process up, memory bounded', async () => {
    const times = seen.map((s) => s.ms).sort((a, b) => a - b);
    const p99 = times[Math.floor(times.length * 0.99)] ?? 0;
    const max = times.at(-1) ?? 0;
    const errors = seen.filter((s) => s.status >= 400);
    const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
    console.log(
      `hostile input (seed ${SEED}): ${seen.length} sent, ${seen.filter((s) => s.status > 0).length} answered, ` +
        `${errors.length} 4xx/5xx of which ${errors.filter((s) => s.problem).length} problem+json, ` +
        `p50 ${times[Math.floor(times.length / 2)]?.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms, ` +
        `heap ${heapMb.toFixed(0)} MB; statuses ${JSON.stringify(countBy(seen.map((s) => s.status)))}`,
    );
    assert.equal(seen.length, RAW_RUNS + CLIENT_RUNS);
    assert.ok(p99 <= 100, `p99 ${p99.toFixed(1)} ms`);
    assert.ok(max <= 1000, `max ${max.toFixed(1)} ms`);
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    assert.ok(heapMb < 512, `heap in use ${heapMb.toFixed(0)} MB`);
  });
});

function countBy(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
