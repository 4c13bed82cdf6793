/**
 * Issue 6 acceptance, traffic part, end to end: rate limits exact across three gateways sharing
 * one Redis; X-Forwarded-For believed only from trusted proxies; Redis stopped mid-test (a private
 * redis-server) with fail-open and fail-closed endpoints recovering; a response cache that makes
 * one backend call for 100 concurrent misses and is shared by two gateways through Redis.
 * Each suite writes under its own key prefix in the shared Redis; nothing is flushed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import {
  type PrivateRedisServer,
  privateRedisServer,
  REDIS_URL,
  requireBroker,
  requireRedisServerBinary,
} from './support/brokers.ts';
import { startTestGateway } from './support/gateway.ts';

const DOCS = new URL('../docs/policies/', import.meta.url);

const redisSkip = await requireBroker('redis', REDIS_URL);
const privateRedisSkip = await requireRedisServerBinary();

function uniquePrefix(): string {
  return `chorus-test:${randomUUID()}:`;
}

/** Sends `total` requests from `clients` concurrent clients, round-robin over the URLs. */
async function hammer(
  urls: readonly string[],
  clients: number,
  total: number,
  headers: () => Record<string, string> = () => ({}),
): Promise<number[]> {
  const statuses: number[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (sent < total) {
        const index = sent++;
        const res = await fetch(urls[index % urls.length]!, { headers: headers() });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

const count = (statuses: readonly number[], status: number): number =>
  statuses.filter((s) => s === status).length;

describe('rate limits shared through Redis', { skip: redisSkip }, () => {
  let backend: TestBackend;
  const gateways: Gateway[] = [];

  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    const config = `
stores:
  redis: { url: "${REDIS_URL}", keyPrefix: "${uniquePrefix()}", commandTimeout: 2s }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - id: limited
    method: GET
    path: /limited
    policies: { rateLimit: { limit: 100, window: 1m, key: ip, store: redis } }
    flow: [{ id: r, call: api.get }]
`;
    for (let i = 0; i < 3; i++) gateways.push(await startTestGateway(config));
  });

  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await backend.close();
  });

  test('three gateways, 50 concurrent clients, limit 100 per minute: exactly 100 allowed', async () => {
    // Every request also claims another client address: X-Forwarded-For from an untrusted peer gains nothing.
    let n = 0;
    const statuses = await hammer(
      gateways.map((gateway) => `${gateway.url}/limited`),
      50,
      300,
      () => ({ 'x-forwarded-for': `198.51.100.${n++ % 250}` }),
    );
    assert.equal(statuses.length, 300);
    assert.equal(count(statuses, 200), 100);
    assert.equal(count(statuses, 429), 200);
    assert.equal(backend.calls.length, 100);
  });
});

describe('X-Forwarded-For from a trusted proxy', { skip: redisSkip }, () => {
  let backend: TestBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    gateway = await startTestGateway(`
server: { trustedProxies: [127.0.0.1] }
stores:
  redis: { url: "${REDIS_URL}", keyPrefix: "${uniquePrefix()}", commandTimeout: 2s }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - method: GET
    path: /limited
    policies: { rateLimit: { limit: 2, window: 1m, key: ip, store: redis } }
    flow: [{ id: r, call: api.get }]
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test('counts the address the proxy saw, not the ones a client prepends', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // The client spoofs the first hop; the trusted proxy (127.0.0.1) appended the real one.
      const res = await fetch(`${gateway.url}/limited`, {
        headers: { 'x-forwarded-for': `203.0.113.${i}, 192.0.2.7` },
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    const other = await fetch(`${gateway.url}/limited`, { headers: { 'x-forwarded-for': '192.0.2.8' } });
    assert.equal(other.status, 200, 'another client behind the proxy has its own count');
  });
});

describe('Redis outage: fail-open and fail-closed', { skip: privateRedisSkip }, () => {
  let backend: TestBackend;
  let redis: PrivateRedisServer;
  let gateway: Gateway;

  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    redis = await privateRedisServer();
    await redis.start();
    gateway = await startTestGateway(`
stores:
  redis: { url: "${redis.url}", keyPrefix: "outage:", commandTimeout: 100ms, connectTimeout: 500ms }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - method: GET
    path: /open
    policies: { rateLimit: { limit: 1000, window: 1m, key: ip, store: redis, onStoreError: open } }
    flow: [{ id: r, call: api.get }]
  - method: GET
    path: /closed
    policies: { rateLimit: { limit: 1000, window: 1m, key: ip, store: redis, onStoreError: closed } }
    flow: [{ id: r, call: api.get }]
`);
  });

  after(async () => {
    await gateway.close();
    await redis.stop();
    await backend.close();
  });

  test('open keeps serving, closed answers 503, both recover when Redis is back', async () => {
    const before = await Promise.all([fetch(`${gateway.url}/open`), fetch(`${gateway.url}/closed`)]);
    assert.deepEqual(
      before.map((res) => res.status),
      [200, 200],
    );
    assert.match(before[0]!.headers.get('ratelimit') ?? '', /r=999/);

    await redis.stop();
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const open = await fetch(`${gateway.url}/open`);
      const ms = performance.now() - started;
      assert.equal(open.status, 200);
      assert.equal(open.headers.get('ratelimit'), null, 'no count while the store is down');
      // Fails fast: no offline queue, a 100 ms command timeout.
      assert.ok(ms < 1000, `fail-open answered in ${Math.round(ms)} ms`);
      const closed = await fetch(`${gateway.url}/closed`);
      assert.equal(closed.status, 503);
      const problem = (await closed.json()) as { code: string };
      assert.equal(problem.code, 'CHORUS_POLICY_STORE_UNAVAILABLE');
    }

    await redis.start();
    const until = Date.now() + 10_000;
    let closedStatus = 0;
    while (Date.now() < until) {
      const res = await fetch(`${gateway.url}/closed`);
      await res.arrayBuffer();
      closedStatus = res.status;
      if (closedStatus === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(closedStatus, 200, 'fail-closed serves again once Redis is back');
    const open = await fetch(`${gateway.url}/open`);
    assert.equal(open.status, 200);
    // The private server came back empty: counting starts again.
    assert.match(open.headers.get('ratelimit') ?? '', /r=999/);
  });

  test('a hung Redis (not answering) costs at most the command timeout, then both recover', async () => {
    redis.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const open = await fetch(`${gateway.url}/open`);
        const ms = performance.now() - started;
        await open.arrayBuffer();
        assert.equal(open.status, 200);
        assert.ok(ms < 1000, `fail-open answered in ${Math.round(ms)} ms with a 100 ms command timeout`);
        const closed = await fetch(`${gateway.url}/closed`);
        await closed.arrayBuffer();
        assert.equal(closed.status, 503);
      }
    } finally {
      redis.resume();
    }
    const until = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < until && status !== 200) {
      const res = await fetch(`${gateway.url}/closed`);
      await res.arrayBuffer();
      status = res.status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200);
  });
});

describe('response cache through Redis', { skip: redisSkip }, () => {
  let backend: TestBackend;
  const gateways: Gateway[] = [];

  before(async () => {
    // Slow enough that every concurrent request arrives while the first is still being answered.
    backend = await startBackend((req, res) => json(res, 200, { url: req.url, at: Date.now() }, 100));
    const config = `
stores:
  redis: { url: "${REDIS_URL}", keyPrefix: "${uniquePrefix()}", commandTimeout: 2s }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: "/items/{id}" } } }
endpoints:
  - id: getItem
    method: GET
    path: /items/{id}
    policies: { cache: { ttl: 1m, store: redis } }
    flow: [{ id: r, call: api.get, input: { params: { id: "{{ request.params.id }}" } } }]
  - id: getMemoryItem
    method: GET
    path: /memory/items/{id}
    policies: { cache: { ttl: 1m } }
    flow: [{ id: r, call: api.get, input: { params: { id: "{{ request.params.id }}" } } }]
`;
    for (let i = 0; i < 2; i++) gateways.push(await startTestGateway(config));
  });

  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await backend.close();
  });

  test('100 concurrent identical requests on a cold key make exactly 1 backend call (Redis store)', async () => {
    const calls = backend.calls.length;
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`${gateways[0]!.url}/items/cold-1`)),
    );
    const bodies = await Promise.all(
      responses.map((res) => res.json() as Promise<{ url: string; at: number }>),
    );
    assert.ok(responses.every((res) => res.status === 200));
    assert.equal(backend.calls.length - calls, 1);
    assert.equal(new Set(bodies.map((body) => body.at)).size, 1, 'every client got the one answer');
    assert.equal(responses.filter((res) => res.headers.get('x-cache') === 'MISS').length, 1);
  });

  test('100 concurrent identical requests on a cold key make exactly 1 backend call (memory store)', async () => {
    const calls = backend.calls.length;
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`${gateways[0]!.url}/memory/items/cold-2`)),
    );
    await Promise.all(responses.map((res) => res.arrayBuffer()));
    assert.ok(responses.every((res) => res.status === 200));
    assert.equal(backend.calls.length - calls, 1);
  });

  test('a Redis-backed cache is shared by two gateways', async () => {
    const calls = backend.calls.length;
    const first = await fetch(`${gateways[0]!.url}/items/shared-1`);
    const firstBody = await first.json();
    assert.equal(first.headers.get('x-cache'), 'MISS');
    const second = await fetch(`${gateways[1]!.url}/items/shared-1`);
    assert.equal(second.headers.get('x-cache'), 'HIT');
    assert.deepEqual(await second.json(), firstBody);
    assert.match(second.headers.get('age') ?? '', /^\d+$/);
    assert.equal(backend.calls.length - calls, 1);
  });
});

describe('the examples of the rate-limit and cache docs', () => {
  for (const page of ['rate-limit.md', 'cache.md']) {
    test(`every full config in ${page} loads and starts`, async () => {
      const text = await readFile(new URL(page, DOCS), 'utf8');
      const configs = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
        .map((match) => match[1]!)
        .filter((yaml) => /^endpoints:/m.test(yaml));
      assert.ok(configs.length > 0);
      for (const yaml of configs) {
        const gateway = await startTestGateway(yaml);
        await gateway.close();
      }
    });
  }
});
