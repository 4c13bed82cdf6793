/** The response cache and step caches on the memory store, through a real gateway. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { json, startBackend, type TestBackend } from '../../../../test/support/backend.ts';
import { startTestGateway, writeConfig } from '../../../../test/support/gateway.ts';
import { wire } from '../../../../test/support/wire.ts';
import { compilePlan } from '../../../gateway.ts';
import { loadConfig } from '../../../modules.ts';
import { metricsRegistry } from '../../../observability/metrics.ts';
import { type Gateway, startGateway } from '../../../server/server.ts';

describe('response cache (memory)', () => {
  let backend: TestBackend;
  let gateway: Gateway;
  let version = 0;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/broken')) return json(res, 500, { oops: true });
      if (req.url?.startsWith('/missing')) return json(res, 404, { missing: true });
      if (req.url?.startsWith('/items/slow')) return json(res, 200, { slow: true, version }, 300);
      res.setHeader('x-backend', 'yes');
      json(res, 200, { url: req.url, version, tenant: req.headers['x-tenant'] ?? null });
    });
    gateway = await startTestGateway(`
services:
  api:
    kind: http
    url: ${backend.url}
    operations:
      get: { path: "/items/{id}" }
      broken: { path: /broken }
      missing: { path: /missing, accept: [404] }
      put: { method: PUT, path: "/items/{id}" }
endpoints:
  - id: getItem
    method: GET
    path: /items/{id}
    policies: { cache: { ttl: 1m } }
    flow: [{ id: r, call: api.get, input: { params: { id: "{{ request.params.id }}" } } }]
    response:
      headers: { x-version: "{{ string(steps.r.version) }}" }
      body: "{{ steps.r }}"
  - id: putItem
    method: PUT
    path: /items/{id}
    flow:
      - id: saved
        call: api.put
        input: { params: { id: "{{ request.params.id }}" } }
        invalidate: { cache: getItem, key: "'GET /items/' + request.params.id" }
  - id: byTenant
    method: GET
    path: /tenant
    policies: { cache: { ttl: 1m, vary: [X-Tenant] } }
    flow: [{ id: r, call: api.get, input: { params: { id: tenant } } }]
    response: { body: { tenant: "{{ request.headers['x-tenant'] }}" } }
  - id: customKey
    method: GET
    path: /custom
    policies: { cache: { ttl: 1m, key: "request.query.q" } }
    flow: [{ id: r, call: api.get, input: { params: { id: custom } } }]
  - id: broken
    method: GET
    path: /broken
    policies: { cache: { ttl: 1m } }
    flow: [{ id: r, call: api.broken }]
  - id: missing
    method: GET
    path: /missing
    policies: { cache: { ttl: 1m } }
    flow: [{ id: r, call: api.missing }]
    response: { status: 404, body: "{{ steps.r }}" }
  - id: partial
    method: GET
    path: /partial
    policies: { cache: { ttl: 1m } }
    flow:
      - id: bad
        call: api.broken
        onError: skip
    response: { body: { bad: "{{ steps.bad }}" } }
  - id: stubborn
    method: GET
    path: /stubborn
    policies: { cache: { ttl: 1m, clientDirectives: ignore } }
    flow: [{ id: r, call: api.get, input: { params: { id: stubborn } } }]
  - id: short
    method: GET
    path: /short
    policies: { cache: { ttl: 300ms } }
    flow: [{ id: r, call: api.get, input: { params: { id: short } } }]
  - id: stepCached
    method: GET
    path: /step/{id}
    flow:
      - id: r
        call: api.get
        input: { params: { id: "{{ request.params.id }}" } }
        cache: { ttl: 1m, key: "request.params.id" }
    response: { body: { item: "{{ steps.r }}" } }
  - id: stepWrite
    method: POST
    path: /step/{id}
    flow:
      - id: saved
        call: api.put
        input: { params: { id: "{{ request.params.id }}" } }
        invalidate: [{ cache: stepCached.r, key: "request.params.id" }]
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  const calls = (prefix: string): number =>
    backend.calls.filter((call) => call.url.startsWith(prefix)).length;

  test('a miss calls the backend, a hit answers the stored status, headers and body with Age', async () => {
    const first = await fetch(`${gateway.url}/items/1`);
    assert.equal(first.headers.get('x-cache'), 'MISS');
    const firstBody = await first.json();
    const second = await fetch(`${gateway.url}/items/1`);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-cache'), 'HIT');
    assert.equal(second.headers.get('x-version'), first.headers.get('x-version'));
    assert.equal(second.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(second.headers.get('age'), '0');
    assert.notEqual(second.headers.get('x-request-id'), first.headers.get('x-request-id'));
    assert.deepEqual(await second.json(), firstBody);
    assert.equal(calls('/items/1'), 1);
  });

  const lookups = async (cache: string, result: string): Promise<number> => {
    const metric = await metricsRegistry.getSingleMetric('chorus_cache_lookups_total')!.get();
    return metric.values.find((v) => v.labels.cache === cache && v.labels.result === result)?.value ?? 0;
  };

  test('answers carry Cache-Control with the time left; a hit carries its Age', async () => {
    const miss = await fetch(`${gateway.url}/items/cc`);
    assert.equal(miss.headers.get('cache-control'), 'public, max-age=60');
    await miss.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const hit = await fetch(`${gateway.url}/items/cc`);
    await hit.arrayBuffer();
    const age = Number(hit.headers.get('age'));
    assert.ok(age >= 1, `age ${age}`);
    const maxAge = Number(/^public, max-age=(\d+)$/.exec(String(hit.headers.get('cache-control')))?.[1]);
    // Both are whole seconds rounded down from the same instant: together 58 or 59 of the 60.
    assert.ok(maxAge + age === 58 || maxAge + age === 59, `max-age ${maxAge} + age ${age}`);
  });

  test('a client no-cache (or Pragma: no-cache, or max-age=0) goes past the cache, refreshes it and counts as bypass', async () => {
    await (await fetch(`${gateway.url}/items/nc`)).arrayBuffer();
    assert.equal(calls('/items/nc'), 1);
    const before = await lookups('getItem', 'bypass');
    for (const headers of [
      { 'cache-control': 'no-cache' },
      { pragma: 'no-cache' },
      { 'cache-control': 'max-age=0' },
    ]) {
      const res = await fetch(`${gateway.url}/items/nc`, { headers });
      assert.equal(res.headers.get('x-cache'), 'MISS');
      await res.arrayBuffer();
    }
    assert.equal(calls('/items/nc'), 4);
    assert.equal((await lookups('getItem', 'bypass')) - before, 3);
    const after = await fetch(`${gateway.url}/items/nc`);
    assert.equal(after.headers.get('x-cache'), 'HIT', 'the bypass refreshed the entry');
    assert.equal(calls('/items/nc'), 4);
  });

  test('a client no-store goes past the cache and leaves it untouched', async () => {
    const res = await fetch(`${gateway.url}/items/ns`, { headers: { 'cache-control': 'no-store' } });
    await res.arrayBuffer();
    const next = await fetch(`${gateway.url}/items/ns`);
    assert.equal(next.headers.get('x-cache'), 'MISS', 'nothing was stored by the no-store request');
    await next.arrayBuffer();
    assert.equal(calls('/items/ns'), 2);
  });

  test('a client max-age=N refuses entries older than N seconds', async () => {
    await (await fetch(`${gateway.url}/items/ma`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const young = await fetch(`${gateway.url}/items/ma`, { headers: { 'cache-control': 'max-age=30' } });
    assert.equal(young.headers.get('x-cache'), 'HIT');
    await young.arrayBuffer();
    const strict = await fetch(`${gateway.url}/items/ma`, { headers: { 'cache-control': 'max-age=1' } });
    assert.equal(strict.headers.get('x-cache'), 'MISS');
    await strict.arrayBuffer();
    assert.equal(calls('/items/ma'), 2);
  });

  test('a hit carries the ETag of its body; If-None-Match with it gets 304 with no body', async () => {
    const miss = await fetch(`${gateway.url}/items/etag`);
    const etag = miss.headers.get('etag');
    assert.match(String(etag), /^W\/"/);
    await miss.arrayBuffer();
    const hit = await fetch(`${gateway.url}/items/etag`);
    assert.equal(hit.headers.get('etag'), etag);
    await hit.arrayBuffer();
    // Not fetch: it adds Cache-Control: no-cache to a conditional request, which goes past the cache.
    const revalidated = await wire(`${gateway.url}/items/etag`, {
      headers: { 'if-none-match': String(etag) },
    });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.body.length, 0);
    assert.equal(revalidated.headers['x-cache'], 'HIT');
    assert.equal(calls('/items/etag'), 1);
  });

  test('with clientDirectives: ignore, a client no-cache is served from the cache', async () => {
    await (await fetch(`${gateway.url}/stubborn`)).arrayBuffer();
    const res = await fetch(`${gateway.url}/stubborn`, { headers: { 'cache-control': 'no-cache' } });
    assert.equal(res.headers.get('x-cache'), 'HIT');
    await res.arrayBuffer();
    assert.equal(calls('/items/stubborn'), 1);
  });

  test('the default key has the query sorted', async () => {
    await (await fetch(`${gateway.url}/items/2?b=2&a=1`)).arrayBuffer();
    const res = await fetch(`${gateway.url}/items/2?a=1&b=2`);
    assert.equal(res.headers.get('x-cache'), 'HIT');
    const other = await fetch(`${gateway.url}/items/2?a=1&b=3`);
    assert.equal(other.headers.get('x-cache'), 'MISS');
  });

  test('a write endpoint step invalidates the entry', async () => {
    await (await fetch(`${gateway.url}/items/3`)).arrayBuffer();
    assert.equal((await fetch(`${gateway.url}/items/3`)).headers.get('x-cache'), 'HIT');
    version++;
    const put = await fetch(`${gateway.url}/items/3`, { method: 'PUT' });
    assert.equal(put.status, 200);
    const after = await fetch(`${gateway.url}/items/3`);
    assert.equal(after.headers.get('x-cache'), 'MISS');
    assert.equal(((await after.json()) as { version: number }).version, version);
  });

  test('vary on a header keeps one answer per value', async () => {
    const acme = await fetch(`${gateway.url}/tenant`, { headers: { 'x-tenant': 'acme' } });
    const globex = await fetch(`${gateway.url}/tenant`, { headers: { 'x-tenant': 'globex' } });
    assert.equal(((await acme.json()) as { tenant: string }).tenant, 'acme');
    assert.equal(((await globex.json()) as { tenant: string }).tenant, 'globex');
    const again = await fetch(`${gateway.url}/tenant`, { headers: { 'x-tenant': 'globex' } });
    assert.equal(again.headers.get('x-cache'), 'HIT');
    assert.equal(((await again.json()) as { tenant: string }).tenant, 'globex');
    assert.equal(calls('/items/tenant'), 2);
  });

  test('a key expression decides what is the same answer', async () => {
    await (await fetch(`${gateway.url}/custom?q=x&noise=1`)).arrayBuffer();
    const res = await fetch(`${gateway.url}/custom?q=x&noise=2`);
    assert.equal(res.headers.get('x-cache'), 'HIT');
  });

  test('errors, unlisted statuses and partial answers are not stored', async () => {
    for (const path of ['/broken', '/missing', '/partial']) {
      const first = await fetch(gateway.url + path);
      await first.arrayBuffer();
      const second = await fetch(gateway.url + path);
      await second.arrayBuffer();
      assert.notEqual(second.headers.get('x-cache'), 'HIT', path);
    }
    assert.equal(calls('/broken'), 4);
    assert.equal(calls('/missing'), 2);
  });

  test('when the request computing a key goes away, the ones waiting for it compute for themselves', async () => {
    const leader = new AbortController();
    const leading = fetch(`${gateway.url}/items/slow`, { signal: leader.signal }).catch(
      (error: Error) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const following = fetch(`${gateway.url}/items/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    leader.abort();
    assert.ok((await leading) instanceof Error);
    const res = await following;
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { slow: boolean }).slow, true);
  });

  test('an entry expires after its ttl', async () => {
    await (await fetch(`${gateway.url}/short`)).arrayBuffer();
    assert.equal((await fetch(`${gateway.url}/short`)).headers.get('x-cache'), 'HIT');
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal((await fetch(`${gateway.url}/short`)).headers.get('x-cache'), 'MISS');
  });

  test('a step cache skips the call on a hit; its invalidation drops the entry', async () => {
    const before = calls('/items/s1');
    const a = (await (await fetch(`${gateway.url}/step/s1`)).json()) as { item: { version: number } };
    const b = (await (await fetch(`${gateway.url}/step/s1`)).json()) as { item: { version: number } };
    assert.deepEqual(a, b);
    assert.equal(calls('/items/s1') - before, 1);
    version++;
    assert.equal((await fetch(`${gateway.url}/step/s1`, { method: 'POST' })).status, 200);
    const c = (await (await fetch(`${gateway.url}/step/s1`)).json()) as { item: { version: number } };
    assert.equal(c.item.version, version);
    assert.equal(calls('/items/s1') - before, 3, 'the GET, the PUT, the GET after invalidation');
  });

  test('concurrent misses of a step cache make one call', async () => {
    const before = calls('/items/s2');
    await Promise.all(
      Array.from({ length: 20 }, async () => (await fetch(`${gateway.url}/step/s2`)).arrayBuffer()),
    );
    assert.equal(calls('/items/s2') - before, 1);
  });
});

describe('cache config', () => {
  test('invalidating an unknown cache is a load error naming the caches', async () => {
    await assert.rejects(
      startTestGateway(`
endpoints:
  - id: read
    method: GET
    path: /r
    policies: { cache: { ttl: 1m } }
    flow: [{ id: m, map: 1 }]
  - method: POST
    path: /w
    flow:
      - id: m
        map: 2
        invalidate: { cache: raed, key: "'GET /r'" }
`),
      /no cache named "raed" \(caches: read\)/,
    );
  });
});

describe('cache observability', () => {
  test("a step-cache hit is an event on the step's span and counted as a hit", async () => {
    const backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    const exporter = new InMemorySpanExporter();
    const file = await writeConfig(`
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - id: traced
    method: GET
    path: /traced
    flow: [{ id: r, call: api.get, cache: { ttl: 1m, key: "'one'" } }]
`);
    const loaded = await loadConfig(file);
    assert.ok(loaded.ok);
    const logger = pino({ level: 'silent' });
    const compiled = await compilePlan(loaded.loaded, logger);
    assert.ok(compiled.ok);
    const gateway = await startGateway(compiled.plan, {
      logger,
      port: 0,
      host: '127.0.0.1',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const hits = async (): Promise<number> => {
      const metric = await metricsRegistry.getSingleMetric('chorus_cache_lookups_total')!.get();
      return (
        metric.values.find((v) => v.labels.cache === 'traced.r' && v.labels.result === 'hit')?.value ?? 0
      );
    };
    try {
      const before = await hits();
      await (await fetch(`${gateway.url}/traced`)).arrayBuffer();
      await (await fetch(`${gateway.url}/traced`)).arrayBuffer();
      assert.equal(backend.calls.length, 1);
      assert.equal((await hits()) - before, 1);
      const events = exporter.getFinishedSpans().flatMap((span) => span.events.map((event) => event.name));
      assert.equal(events.filter((name) => name === 'cache.hit').length, 1);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('cache varying on the consumer', () => {
  test('each consumer gets its own entry; the same consumer hits it', async () => {
    let backendCalls = 0;
    const backend = await startBackend((_req, res) => json(res, 200, { n: backendCalls++ }));
    const digest = (key: string): string => `sha256:${createHash('sha256').update(key).digest('hex')}`;
    const gateway = await startTestGateway(`
consumers:
  - { id: alice, keys: ["${digest('alice-key-0123456789abcdef')}"] }
  - { id: bob, keys: ["${digest('bob-key-0123456789abcdef00')}"] }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - method: GET
    path: /mine
    policies: { auth: apiKey, cache: { ttl: 1m, vary: [consumer] } }
    flow: [{ id: r, call: api.get }]
    response: { body: { who: "{{ request.consumer.id }}", n: "{{ steps.r.n }}" } }
`);
    try {
      const as = async (key: string): Promise<{ cache: string | null; body: unknown }> => {
        const res = await fetch(`${gateway.url}/mine`, { headers: { 'x-api-key': key } });
        return { cache: res.headers.get('x-cache'), body: await res.json() };
      };
      const alice = await as('alice-key-0123456789abcdef');
      const bob = await as('bob-key-0123456789abcdef00');
      const aliceAgain = await as('alice-key-0123456789abcdef');
      assert.deepEqual(alice, { cache: 'MISS', body: { who: 'alice', n: 0 } });
      assert.deepEqual(bob, { cache: 'MISS', body: { who: 'bob', n: 1 } });
      assert.deepEqual(aliceAgain, { cache: 'HIT', body: { who: 'alice', n: 0 } });
      // For that caller only: a shared cache in front must not hand it to anyone else.
      const res = await fetch(`${gateway.url}/mine`, {
        headers: { 'x-api-key': 'alice-key-0123456789abcdef' },
      });
      await res.arrayBuffer();
      assert.match(String(res.headers.get('cache-control')), /^private, max-age=(59|60)$/);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});
