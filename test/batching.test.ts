/**
 * Keyed batching, de-duplication and single-flight end to end, against real loopback backends
 * that count their calls: N+1 calls become one per batch, results are matched by key whatever
 * order the backend answers in, and identical calls are made once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { type Gateway, startGateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway, writeConfig } from './support/gateway.ts';

describe('keyed batching under forEach', () => {
  let users: TestBackend;
  let gateway: Gateway;

  before(async () => {
    users = await startBackend((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter((id) => id !== '');
      if (url.pathname === '/users') {
        return json(res, 200, { users: ids.map((id) => ({ id: Number(id), name: `user ${id}` })) });
      }
      if (url.pathname === '/users-unruly') {
        // Reverse order, key 13 omitted, key 12 repeated (the first one counts).
        const answer = ids
          .filter((id) => id !== '13')
          .reverse()
          .flatMap((id) =>
            id === '12'
              ? [
                  { id, name: `user ${id}` },
                  { id, name: 'a duplicate' },
                ]
              : [{ id, name: `user ${id}` }],
          );
        return json(res, 200, { data: answer });
      }
      if (url.pathname.startsWith('/user/')) {
        return json(res, 200, { id: url.pathname.slice(6), name: 'one' }, 20);
      }
      json(res, 404, {});
    });
    gateway = await startTestGateway(`
services:
  users:
    kind: http
    url: ${users.url}
    operations:
      many: { path: /users }
      unruly: { path: /users-unruly }
      one: { path: "/user/{id}" }
endpoints:
  - method: GET
    path: /fifty
    flow:
      - id: ids
        map: "{{ [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50] }}"
      - id: users
        forEach: steps.ids
        call: users.many
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: item, size: 20, results: batch.output.users, resultKey: result.id }
    response:
      body: { names: "{{ steps.users.map(u, u.name) }}" }
  - method: GET
    path: /unruly
    flow:
      - id: users
        forEach: "[11, 12, 13, 14]"
        call: users.unruly
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: item, size: 10, results: batch.output.data, resultKey: result.id }
        itemKey: "'user-' + string(item)"
        onError: skip
    response:
      body: { users: "{{ steps.users }}" }
  - method: GET
    path: /unruly-fallback
    flow:
      - id: users
        forEach: "[13, 14]"
        call: users.unruly
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: item, size: 10, results: batch.output.data, resultKey: result.id }
        onError: { fallback: "{'missing': error.code}" }
  - method: GET
    path: /two-steps
    flow:
      - id: author
        call: users.many
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: "7", size: 20, results: batch.output.users, resultKey: result.id }
      - id: editor
        call: users.many
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: "7", size: 20, results: batch.output.users, resultKey: result.id }
      - id: reviewers
        forEach: "[7, 8]"
        after: [author, editor]
        call: users.many
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: item, size: 20, results: batch.output.users, resultKey: result.id }
    response:
      body:
        author: "{{ steps.author.name }}"
        editor: "{{ steps.editor.name }}"
        reviewers: "{{ steps.reviewers.map(r, r.name) }}"
  - method: GET
    path: /same-call
    flow:
      - { id: a, call: users.one, input: { params: { id: "5" } } }
      - { id: b, call: users.one, input: { params: { id: "5" } } }
      - id: each
        forEach: "['5', '6', '6']"
        call: users.one
        input: { params: { id: "{{ item }}" } }
    response:
      body: { a: "{{ steps.a.id }}", b: "{{ steps.b.id }}", each: "{{ steps.each.map(e, e.id) }}" }
`);
  });

  after(async () => {
    await gateway?.close();
    await users?.close();
  });

  test('forEach over 50 items with a batch of 20 makes exactly 3 backend calls, each item its own result', async () => {
    const before = users.calls.length;
    const res = await fetch(`${gateway.url}/fifty`);
    assert.equal(res.status, 200);
    const { names } = (await res.json()) as { names: string[] };
    assert.deepEqual(
      names,
      Array.from({ length: 50 }, (_, i) => `user ${i + 1}`),
    );
    const calls = users.calls.slice(before);
    assert.equal(calls.length, 3);
    assert.deepEqual(
      calls.map((call) => new URL(call.url, 'http://x').searchParams.get('ids')!.split(',').length),
      [20, 20, 10],
    );
  });

  test('results come back by key: reversed, repeated and omitted keys; the missing one is a per-item miss', async () => {
    const before = users.calls.length;
    const res = await fetch(`${gateway.url}/unruly`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'users');
    const body = (await res.json()) as {
      users: ({ id: string; name: string } | null)[];
      warnings: { step: string; code: string; index: number; key: string }[];
    };
    assert.deepEqual(body.users, [
      { id: '11', name: 'user 11' },
      { id: '12', name: 'user 12' },
      null,
      { id: '14', name: 'user 14' },
    ]);
    assert.equal(body.warnings.length, 1);
    assert.equal(body.warnings[0]!.code, 'CHORUS_BATCH_KEY_MISSING');
    assert.equal(body.warnings[0]!.index, 2);
    assert.equal(body.warnings[0]!.key, 'user-13');
    assert.equal(users.calls.length - before, 1);
  });

  test('a fallback sees the missing key as error.code CHORUS_BATCH_KEY_MISSING, per item', async () => {
    const res = await fetch(`${gateway.url}/unruly-fallback`);
    assert.deepEqual(await res.json(), [
      { missing: 'CHORUS_BATCH_KEY_MISSING' },
      { id: '14', name: 'user 14' },
    ]);
  });

  test('two steps asking for the same key make one call; a later step reuses the keys already read', async () => {
    const before = users.calls.length;
    const res = await fetch(`${gateway.url}/two-steps`);
    assert.deepEqual(await res.json(), {
      author: 'user 7',
      editor: 'user 7',
      reviewers: ['user 7', 'user 8'],
    });
    const calls = users.calls
      .slice(before)
      .map((call) => new URL(call.url, 'http://x').searchParams.get('ids'));
    // 7 once for both steps; the reviewers only ask for 8.
    assert.deepEqual(calls, ['7', '8']);
  });

  test('identical calls within one request run once and share the answer', async () => {
    const before = users.calls.length;
    const res = await fetch(`${gateway.url}/same-call`);
    assert.deepEqual(await res.json(), { a: '5', b: '5', each: ['5', '6', '6'] });
    const calls = users.calls.slice(before).map((call) => call.url);
    assert.deepEqual(calls.sort(), ['/user/5', '/user/6']);
  });
});

describe('single-flight across requests', () => {
  let backend: TestBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { rate: 1.08 }, 300));
    gateway = await startTestGateway(`
services:
  fx:
    kind: http
    url: ${backend.url}
    operations:
      rate: { path: /rate }
endpoints:
  - method: GET
    path: /rate
    flow:
      - { id: rate, call: fx.rate, singleFlight: true }
`);
  });

  after(async () => {
    await gateway?.close();
    await backend?.close();
  });

  test('100 concurrent identical requests make 1 upstream call', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`${gateway.url}/rate`).then((res) => res.json())),
    );
    assert.equal(answers.length, 100);
    for (const answer of answers) assert.deepEqual(answer, { rate: 1.08 });
    assert.equal(backend.calls.length, 1);
    // Once it has answered, the next request calls again (a flight is not a cache).
    await fetch(`${gateway.url}/rate`).then((res) => res.json());
    assert.equal(backend.calls.length, 2);
  });

  test('single-flight on an operation that is not idempotent is refused at load', async () => {
    const file = await writeConfig(`
services:
  shop: { kind: http, url: "http://127.0.0.1:9", operations: { order: { method: POST, path: /orders } } }
endpoints:
  - method: POST
    path: /orders
    flow:
      - { id: order, call: shop.order, singleFlight: true }
`);
    const loaded = await loadConfig(file);
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    const text = compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n');
    assert.match(text, /gateway\.yaml:8:\d+ .*not idempotent/);
  });
});

describe('batching, traced', () => {
  test('each batch call is one client span with its number of keys, and its backend call carries it', async () => {
    const backend = await startBackend((req, res) => {
      const ids = (new URL(req.url ?? '/', 'http://x').searchParams.get('ids') ?? '').split(',');
      json(res, 200, { users: ids.map((id) => ({ id: Number(id) })) });
    });
    const exporter = new InMemorySpanExporter();
    const file = await writeConfig(`
services:
  users: { kind: http, url: "${backend.url}", operations: { many: { path: /users } } }
endpoints:
  - method: GET
    path: /x
    flow:
      - id: users
        forEach: "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]"
        call: users.many
        input: { query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" } }
        batch: { key: item, size: 10, results: batch.output.users, resultKey: result.id }
`);
    const loaded = await loadConfig(file);
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    assert.ok(compiled.ok);
    const gateway = await startGateway(compiled.plan, {
      logger: pino({ level: 'silent' }),
      port: 0,
      host: '127.0.0.1',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    try {
      const res = await fetch(`${gateway.url}/x`);
      assert.equal(((await res.json()) as unknown[]).length, 15);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const spans = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
      assert.deepEqual(spans.map((span) => span.attributes['chorus.batch.keys']).sort(), [10, 5]);
      const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
      for (const span of spans) {
        assert.equal(span.parentSpanContext?.spanId, server.spanContext().spanId);
        assert.ok(
          backend.calls.some((c) => String(c.headers.traceparent).includes(span.spanContext().spanId)),
        );
      }
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});
