/**
 * The HTTP cache of a service, around the real http connector, against real loopback backends,
 * on the memory store and on the machine's Redis: freshness with Age, revalidation by 304,
 * no-store, Vary, stale-while-revalidate, stale-if-error.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { startBackend, type TestBackend } from '../../../test/support/backend.ts';
import { REDIS_URL, requireBroker } from '../../../test/support/brokers.ts';
import { createHttpConnector } from '../../connectors/http/http-connector.ts';
import { httpServiceSchema } from '../../connectors/http/schema.ts';
import type { CallContext, Connector, ConnectorCall, ConnectorResult } from '../../contracts/connector.ts';
import type { UpstreamHandler } from '../../contracts/policy.ts';
import type { CacheResult, PolicyTelemetry } from '../../contracts/telemetry.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { createMemoryStore } from '../../state/memory-store.ts';
import { createRedisStore } from '../../state/redis-store.ts';
import { staleServices } from '../../state/stale-marks.ts';
import type { StateStore } from '../../state/store.ts';
import { createHttpCachePolicy } from './http-cache.ts';
import { httpCachePolicySchema } from './http-cache-schema.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A backend answering the handler, counting the bodies it sent. */
async function backendOf(
  handler: (req: IncomingMessage, res: ServerResponse, sent: { bodies: number }) => void,
): Promise<{ backend: TestBackend; sent: { bodies: number } }> {
  const sent = { bodies: 0 };
  const backend = await startBackend((req, res) => handler(req, res, sent));
  cleanups.push(() => backend.close());
  return { backend, sent };
}

function answer(
  res: ServerResponse,
  sent: { bodies: number },
  body: unknown,
  headers: Record<string, string>,
): void {
  const payload = JSON.stringify(body);
  sent.bodies++;
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Lookups by result, as the metrics would count them. */
function recorder(): { telemetry: PolicyTelemetry; counts: Map<CacheResult, number> } {
  const counts = new Map<CacheResult, number>();
  const telemetry = {
    cache: (_cache: string, result: CacheResult) => counts.set(result, (counts.get(result) ?? 0) + 1),
  } as unknown as PolicyTelemetry;
  return { telemetry, counts };
}

interface Cached {
  call(input?: ConnectorCall['input'], signal?: AbortSignal): Promise<ConnectorResult>;
  counts: Map<CacheResult, number>;
}

/** The real http connector of a backend, wrapped in the HTTP cache. */
async function cachedService(
  url: string,
  raw: Record<string, unknown> = {},
  store: StateStore = createMemoryStore({ cacheBytes: 1 << 20, maxKeys: 1000 }),
  inner: (next: UpstreamHandler) => UpstreamHandler = (next) => next,
): Promise<Cached> {
  const created = await createHttpConnector(
    httpServiceSchema.parse({ kind: 'http', url, operations: { get: { path: '/item' } } }),
    { service: 'items', baseDir: '.', logger },
  );
  if ('issues' in created) assert.fail(JSON.stringify(created.issues));
  const connector: Connector = created;
  cleanups.push(() => connector.close());
  const { telemetry, counts } = recorder();
  const config = httpCachePolicySchema.parse(raw);
  const handler = createHttpCachePolicy(config, {
    logger,
    baseDir: '.',
    issue: () => assert.fail('no issue expected'),
    telemetry,
    service: 'items',
    connector,
    at: ['services', 'items', 'httpCache'],
    store,
    methods: new Map([['get', 'GET']]),
  })(inner((c, ctx) => connector.call(c, ctx)));
  const callCtx: CallContext = { requestId: 'test', logger };
  return {
    counts,
    call: (input = {}, signal = new AbortController().signal) =>
      handler(
        {
          operation: 'get',
          input,
          headers: { 'x-request-id': 'test' },
          signal,
          timeoutMs: 2000,
          deadlineBound: false,
        },
        callCtx,
      ),
  };
}

/** The backend of the revalidation scenario: max-age=2 and an ETag; a matching If-None-Match gets 304. */
async function revalidatingBackend(): Promise<{ backend: TestBackend; sent: { bodies: number } }> {
  return backendOf((req, res, sent) => {
    const headers = { 'cache-control': 'max-age=2', etag: '"v1"' };
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    answer(res, sent, { name: 'first', version: 1 }, headers);
  });
}

/** The scenarios every store must pass. */
function scenarios(storeOf: () => Promise<StateStore>): void {
  test('a max-age=2 answer is served from the cache for 2 s with Age rising, then revalidated by a 304 that refreshes it', async () => {
    const { backend, sent } = await revalidatingBackend();
    const cache = await cachedService(backend.url, {}, await storeOf());
    const first = await cache.call();
    assert.deepEqual(first.output, { name: 'first', version: 1 });
    assert.equal(backend.calls.length, 1);
    await sleep(1100);
    const cached = await cache.call();
    assert.deepEqual(cached.output, { name: 'first', version: 1 });
    assert.equal(backend.calls.length, 1, 'fresh: no call');
    assert.equal(cached.headers?.age, '1');
    await sleep(1100);
    const revalidated = await cache.call();
    assert.deepEqual(revalidated.output, { name: 'first', version: 1 });
    assert.equal(backend.calls.length, 2);
    assert.equal(backend.calls[1]!.headers['if-none-match'], '"v1"', 'the backend saw the validator');
    assert.equal(sent.bodies, 1, 'the 304 carried no body: only the first answer did');
    assert.equal(cache.counts.get('revalidated'), 1);
    const fresh = await cache.call();
    assert.equal(backend.calls.length, 2, 'fresh again after the 304');
    assert.equal(fresh.headers?.age, '0');
  });

  test('a no-store answer is never stored', async () => {
    const { backend, sent } = await backendOf((_req, res, sent) =>
      answer(res, sent, { n: sent.bodies }, { 'cache-control': 'no-store, max-age=60' }),
    );
    const cache = await cachedService(backend.url, {}, await storeOf());
    assert.deepEqual((await cache.call()).output, { n: 0 });
    assert.deepEqual((await cache.call()).output, { n: 1 });
    assert.equal(sent.bodies, 2);
  });

  test('Vary: accept-language keeps one entry per language', async () => {
    const { backend } = await backendOf((req, res, sent) =>
      answer(
        res,
        sent,
        { language: req.headers['accept-language'] },
        {
          'cache-control': 'max-age=60',
          vary: 'Accept-Language',
        },
      ),
    );
    const cache = await cachedService(backend.url, {}, await storeOf());
    for (const language of ['en', 'fr', 'en', 'fr', 'en']) {
      const result = await cache.call({ headers: { 'accept-language': language } });
      assert.deepEqual(result.output, { language });
    }
    assert.equal(backend.calls.length, 2, 'one call per language, then both from the cache');
  });
}

describe('HTTP cache (memory store)', () => {
  scenarios(async () => createMemoryStore({ cacheBytes: 1 << 20, maxKeys: 1000 }));

  test('private and no-cache answers: private is not stored, no-cache is revalidated each time', async () => {
    const { backend } = await backendOf((req, res, sent) => {
      if (req.headers['if-none-match'] === '"nc"') {
        res.writeHead(304, { etag: '"nc"', 'cache-control': 'no-cache' });
        res.end();
        return;
      }
      answer(
        res,
        sent,
        { ok: true },
        {
          'cache-control': req.url === '/item' ? 'no-cache' : 'private, max-age=60',
          etag: '"nc"',
        },
      );
    });
    const cache = await cachedService(backend.url);
    await cache.call();
    await cache.call();
    assert.equal(backend.calls.length, 2);
    assert.equal(backend.calls[1]!.headers['if-none-match'], '"nc"');
  });

  test('stale-while-revalidate: 50 concurrent requests on a stale entry are served at once, and one background call refreshes it', async () => {
    let version = 0;
    const { backend } = await backendOf((_req, res, sent) => {
      version++;
      const headers = { 'cache-control': 'max-age=1, stale-while-revalidate=30' };
      // The refresh is slow: a request waiting for it would take 400 ms.
      setTimeout(() => answer(res, sent, { version }, headers), version === 1 ? 0 : 400);
    });
    const cache = await cachedService(backend.url);
    await cache.call();
    await sleep(1100);
    const began = performance.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.call()));
    const took = performance.now() - began;
    assert.ok(took < 300, `served at once (${took.toFixed(0)} ms)`);
    for (const result of results) assert.deepEqual(result.output, { version: 1 });
    await sleep(600);
    assert.equal(backend.calls.length, 2, 'one background refresh');
    assert.deepEqual((await cache.call()).output, { version: 2 }, 'the refreshed entry');
    assert.equal(backend.calls.length, 2);
  });

  test('stale-if-error: backend down → the stale answer within the window, marked stale; the error after it', async () => {
    let failing = false;
    const { backend } = await backendOf((_req, res, sent) => {
      if (failing) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"down":true}');
        return;
      }
      answer(res, sent, { ok: true }, { 'cache-control': 'max-age=1, stale-if-error=1' });
    });
    const cache = await cachedService(backend.url);
    await cache.call();
    failing = true;
    await sleep(1100);
    const controller = new AbortController();
    const stale = await cache.call({}, controller.signal);
    assert.deepEqual(stale.output, { ok: true });
    assert.deepEqual(staleServices(controller.signal), ['items'], 'the request is marked as answered stale');
    assert.equal(cache.counts.get('stale'), 1);
    await sleep(1100);
    await assert.rejects(cache.call(), (error: unknown) => {
      assert.ok(error instanceof ChorusError);
      assert.equal(error.code, 'CHORUS_UPSTREAM_STATUS');
      return true;
    });
  });

  test('stale-if-error also covers a breaker that refuses the call, and a backend that is gone', async () => {
    const { backend } = await backendOf((_req, res, sent) =>
      answer(res, sent, { ok: true }, { 'cache-control': 'max-age=1, stale-if-error=60' }),
    );
    let open = false;
    const breaker =
      (next: UpstreamHandler): UpstreamHandler =>
      (c, ctx) =>
        open ? Promise.reject(new ChorusError('CHORUS_CIRCUIT_OPEN', 'open')) : next(c, ctx);
    const cache = await cachedService(backend.url, {}, undefined, breaker);
    await cache.call();
    await sleep(1100);
    open = true;
    assert.deepEqual((await cache.call()).output, { ok: true });
    open = false;
    await backend.close();
    assert.deepEqual((await cache.call()).output, { ok: true });
    assert.equal(cache.counts.get('stale'), 2);
  });

  test('config overrides the backend: maxAge in place of no max-age at all', async () => {
    const { backend } = await backendOf((_req, res, sent) => answer(res, sent, { ok: true }, {}));
    const cache = await cachedService(backend.url, { override: { maxAge: '1m' } });
    await cache.call();
    await cache.call();
    assert.equal(backend.calls.length, 1);
  });

  test('concurrent misses of one request make one call', async () => {
    const { backend } = await backendOf((_req, res, sent) =>
      setTimeout(() => answer(res, sent, { ok: true }, { 'cache-control': 'max-age=60' }), 100),
    );
    const cache = await cachedService(backend.url);
    await Promise.all(Array.from({ length: 20 }, () => cache.call({ query: { q: 'same' } })));
    assert.equal(backend.calls.length, 1);
  });
});

const skipRedis = await requireBroker('redis', REDIS_URL);

describe('HTTP cache (Redis store)', { skip: skipRedis }, () => {
  // A key prefix per test: each scenario starts from an empty cache, as on the memory store.
  scenarios(async () => {
    const store = createRedisStore({
      config: {
        url: REDIS_URL,
        keyPrefix: `chorus-test:${randomUUID()}:`,
        commandTimeout: 500,
        connectTimeout: 1000,
      },
      commandTimeoutMs: 500,
      connectTimeoutMs: 1000,
      logger,
    });
    cleanups.push(() => store.close());
    await store.ready();
    return store;
  });
});
