/**
 * The Redis store against a real Redis Cluster (six local redis-server processes the test
 * starts): exact counting across slots, a cache entry, and a master killed under load — every
 * call during the failover either answers or fails fast (what onStoreError then decides), none
 * hangs, the store recovers by itself, and it counts exactly afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  NODE_TIMEOUT_MS,
  type RedisClusterHandle,
  requireRedisCluster,
} from '../../test/support/redis-cluster.ts';
import { createRedisStore, type RedisStore } from './redis-store.ts';

const cluster = await requireRedisCluster();
const skip = typeof cluster === 'string' ? cluster : false;
const COMMAND_TIMEOUT_MS = 200;

describe('redis store on a Redis Cluster', { skip, timeout: 60_000 }, () => {
  const handle = cluster as RedisClusterHandle;
  let store: RedisStore;

  before(async () => {
    store = createRedisStore({
      config: {
        url: 'redis://unused:1',
        cluster: handle.urls.slice(0, 2),
        keyPrefix: 'chorus-cluster-test:',
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: 1000,
      },
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      connectTimeoutMs: 1000,
      logger: pino({ level: 'silent' }),
    });
    await store.ready();
    // ready() gives up after the connect timeout; on a loaded machine the cluster client may need
    // longer to learn the slots. Wait until a command goes through (bounded), so tests start on a
    // ready client.
    const until = Date.now() + 15_000;
    while (true) {
      try {
        await store.slidingWindow('warm-up', 1_000_000, 1000);
        break;
      } catch (error) {
        if (Date.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });

  after(async () => {
    await store?.close();
    await handle?.stop();
  });

  test('limits on keys spread over every master count exactly (100 of 300 each)', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const masters = new Set(await Promise.all(keys.map((k) => handle.masterOf(`chorus-cluster-test:${k}`))));
    assert.equal(masters.size, 3, 'the keys land on all three masters');
    for (const key of keys) {
      const decisions = await Promise.all(
        Array.from({ length: 300 }, () => store.slidingWindow(key, 100, 60_000)),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 100, key);
      const quota = await Promise.all(
        Array.from({ length: 30 }, () => store.periodCount(`q-${key}`, 10, 'day')),
      );
      assert.equal(quota.filter((d) => d.allowed).length, 10, key);
    }
  });

  test('a cache entry set through one node is read back (hash and expiry in one slot)', async () => {
    await store.cacheSet('entry', 'v1', Buffer.from('{"x":1}'), 10_000);
    assert.equal(String(await store.cacheGet('entry', 'v1')), '{"x":1}');
    await store.cacheDelete('entry');
    assert.equal(await store.cacheGet('entry', 'v1'), undefined);
  });

  test('a master killed under load: calls fail fast during the failover, then the store counts exactly again', async () => {
    const key = 'failover';
    const master = await handle.masterOf(`chorus-cluster-test:${key}`);
    let running = true;
    const outcomes: { ok: boolean; ms: number; at: number }[] = [];
    const started = performance.now();
    const load = async (): Promise<void> => {
      while (running) {
        const t = performance.now();
        const ok = await store.slidingWindow(key, 1_000_000, 60_000).then(
          () => true,
          () => false,
        );
        outcomes.push({ ok, ms: performance.now() - t, at: t - started });
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const loaders = Array.from({ length: 8 }, load);
    let killedAt = 0;
    let promoted = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      killedAt = performance.now() - started;
      handle.kill(master);
      promoted = await handle.waitHealthy(`chorus-cluster-test:${key}`, 20_000);
      assert.notEqual(promoted, master, 'a replica took the slot');
      // Let the client follow the new slot map, then stop the load.
      const deadline = performance.now() + 10_000;
      while (performance.now() < deadline && !outcomes.slice(-20).every((o) => o.ok)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      running = false;
      await Promise.all(loaders);
    }
    const failed = outcomes.filter((o) => !o.ok);
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    assert.ok(failed.length > 0, 'the failover was seen by the load');
    assert.ok(
      outcomes.slice(-20).every((o) => o.ok),
      'the store recovered by itself',
    );
    // No call hangs: a failing one fails within the command timeout (plus scheduling slack).
    assert.ok(slowest < COMMAND_TIMEOUT_MS + 1000, `slowest call ${Math.round(slowest)} ms`);
    const recovered = outcomes.find(
      (o) => o.ok && o.at > killedAt && outcomes.filter((x) => !x.ok && x.at > o.at).length === 0,
    );
    process.stdout.write(
      `# failover: ${outcomes.length} calls, ${failed.length} failed fast, unavailable ~${Math.round((recovered?.at ?? 0) - killedAt)} ms (node timeout ${NODE_TIMEOUT_MS} ms), slowest ${Math.round(slowest)} ms\n`,
    );
    const decisions = await Promise.all(
      Array.from({ length: 300 }, () => store.slidingWindow('after-failover', 100, 60_000)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 100);
  });
});
