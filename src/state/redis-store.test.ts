/** The Redis store against the machine's Redis, under a key prefix of its own. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { brokerAddress, REDIS_URL, requireBroker, startCuttableProxy } from '../../test/support/brokers.ts';
import { periodBounds, QUOTA_PERIODS } from './periods.ts';
import { PERIOD_COUNT_SCRIPT } from './redis-scripts.ts';
import { createRedisStore, type RedisStore } from './redis-store.ts';

const skip = await requireBroker('redis', REDIS_URL);

function storeFor(url: string, keyPrefix: string): RedisStore {
  return createRedisStore({
    config: { url, keyPrefix, commandTimeout: 200, connectTimeout: 1000 },
    commandTimeoutMs: 200,
    connectTimeoutMs: 1000,
    logger: pino({ level: 'silent' }),
  });
}

describe('redis store', { skip }, () => {
  let store: RedisStore;
  const prefix = `chorus-test:${randomUUID()}:`;

  before(async () => {
    store = storeFor(REDIS_URL, prefix);
    await store.ready();
  });

  after(async () => {
    await store.close();
  });

  test('a sliding window counts exactly, from Redis time', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 30 }, () => store.slidingWindow('w', 20, 60_000)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 20);
    const remaining = decisions
      .filter((d) => d.allowed)
      .map((d) => d.remaining)
      .sort((a, b) => a - b);
    assert.deepEqual(
      remaining,
      Array.from({ length: 20 }, (_, i) => i),
    );
    const refused = decisions.find((d) => !d.allowed)!;
    assert.ok(refused.resetMs > 59_000 && refused.resetMs <= 60_000, String(refused.resetMs));
  });

  test('period counters end where the calendar period ends, in Lua as in JS', async () => {
    for (const period of QUOTA_PERIODS) {
      const decision = await store.periodCount(`p-${period}`, 5, period);
      const now = Date.now();
      const expected = periodBounds(now, period).end - now;
      assert.ok(
        Math.abs(decision.resetMs - expected) < 2_000,
        `${period}: ${decision.resetMs} vs ${expected}`,
      );
      assert.equal(decision.remaining, 4);
    }
  });

  test('the Lua calendar arithmetic matches the JS one on month, leap-year and week edges', async () => {
    // The same script text, with the time given instead of read from TIME.
    const script = PERIOD_COUNT_SCRIPT.replace(
      /local t = redis.call\('TIME'\)\nlocal now = [^\n]+/,
      'local now = tonumber(ARGV[3])',
    );
    assert.notEqual(script, PERIOD_COUNT_SCRIPT);
    const client = new Redis(REDIS_URL);
    try {
      const instants = [
        Date.UTC(2026, 0, 31, 23, 59, 59, 999),
        Date.UTC(2026, 1, 1),
        Date.UTC(2028, 1, 29, 12),
        Date.UTC(2100, 1, 28, 12),
        Date.UTC(2000, 1, 29),
        Date.UTC(2026, 11, 31, 23),
        Date.UTC(2026, 10, 23, 0, 0, 0, 1),
        Date.UTC(2026, 10, 29, 23, 59),
      ];
      for (const now of instants) {
        for (const period of QUOTA_PERIODS) {
          const key = `${prefix}lua-${period}-${now}`;
          const reply = (await client.eval(script, 1, key, 5, period, now)) as number[];
          await client.del(key); // its TTL follows the given (maybe far) time: do not leave it
          assert.equal(
            reply[2],
            periodBounds(now, period).end - now,
            `${period} at ${new Date(now).toISOString()}`,
          );
        }
      }
    } finally {
      client.disconnect();
    }
  });

  test('cache variants share a key that is deleted at once', async () => {
    await store.cacheSet('c', 'a', Buffer.from('A'), 60_000);
    await store.cacheSet('c', 'b', Buffer.from('B'), 60_000);
    assert.equal((await store.cacheGet('c', 'a'))?.toString(), 'A');
    assert.equal((await store.cacheGet('c', 'b'))?.toString(), 'B');
    await store.cacheDelete('c');
    assert.equal(await store.cacheGet('c', 'a'), undefined);
  });

  test('every key the store wrote has a TTL', async () => {
    await store.slidingWindow('ttl-w', 5, 60_000);
    await store.periodCount('ttl-q', 5, 'month');
    await store.cacheSet('ttl-c', '', Buffer.from('x'), 30_000);
    const client = new Redis(REDIS_URL);
    try {
      const keys = await client.keys(`${prefix}*`);
      assert.ok(keys.length >= 3, `keys: ${keys.join(', ')}`);
      for (const key of keys) {
        const ttl = await client.pttl(key);
        assert.ok(ttl > 0, `${key} has TTL ${ttl}`);
      }
    } finally {
      client.disconnect();
    }
  });

  test('a cut connection fails fast, then works again after reconnecting', async () => {
    const { host, port } = brokerAddress('redis', REDIS_URL);
    const proxy = await startCuttableProxy(host, port);
    const through = storeFor(`redis://127.0.0.1:${proxy.port}`, prefix);
    try {
      await through.ready();
      assert.equal((await through.slidingWindow('cut', 5, 60_000)).allowed, true);
      await proxy.cut();
      const started = performance.now();
      await assert.rejects(through.slidingWindow('cut', 5, 60_000));
      assert.ok(performance.now() - started < 500);
      await proxy.restore();
      const until = Date.now() + 5_000;
      let ok = false;
      while (!ok && Date.now() < until) {
        ok = await through.slidingWindow('cut', 5, 60_000).then(
          () => true,
          () => false,
        );
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(ok, 'works again once Redis is reachable');
    } finally {
      await through.close();
      await proxy.close();
    }
  });
});
