/**
 * The Redis store behind a real Redis Sentinel (a master, a replica and a sentinel the test
 * starts): exact counting through the master the sentinel names, and the master killed under
 * load — calls fail fast until the sentinel has promoted the replica, the store follows by itself,
 * and it counts exactly afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  type RedisSentinelHandle,
  requireRedisSentinel,
  SENTINEL_MASTER,
} from '../../test/support/redis-sentinel.ts';
import { createRedisStore, type RedisStore } from './redis-store.ts';

const sentinel = await requireRedisSentinel();
const skip = typeof sentinel === 'string' ? sentinel : false;
const COMMAND_TIMEOUT_MS = 200;

describe('redis store behind Redis Sentinel', { skip, timeout: 60_000 }, () => {
  const handle = sentinel as RedisSentinelHandle;
  let store: RedisStore;

  before(async () => {
    store = createRedisStore({
      config: {
        url: 'redis://ignored:6379',
        sentinel: { name: SENTINEL_MASTER, nodes: [handle.sentinelUrl] },
        keyPrefix: 'chorus-sentinel-test:',
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: 1000,
      },
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      connectTimeoutMs: 1000,
      logger: pino({ level: 'silent' }),
    });
    await store.ready();
  });

  after(async () => {
    await store?.close();
    await handle?.stop();
  });

  test('a limit counts exactly through the master the sentinel names (100 of 300)', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 300 }, () => store.slidingWindow('before', 100, 60_000)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 100);
  });

  test('the master killed under load: calls fail fast, the store follows the promoted replica, then counts exactly', async () => {
    let running = true;
    const outcomes: { ok: boolean; ms: number }[] = [];
    const load = async (): Promise<void> => {
      while (running) {
        const t = performance.now();
        const ok = await store.slidingWindow('during', 1_000_000, 60_000).then(
          () => true,
          () => false,
        );
        outcomes.push({ ok, ms: performance.now() - t });
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const loaders = Array.from({ length: 4 }, load);
    const started = performance.now();
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      handle.killMaster();
      const deadline = performance.now() + 20_000;
      while (performance.now() < deadline) {
        const master = await handle.currentMaster().catch(() => 0);
        if (master === handle.replicaPort && outcomes.slice(-20).every((o) => o.ok)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      running = false;
      await Promise.all(loaders);
    }
    assert.equal(await handle.currentMaster(), handle.replicaPort, 'the sentinel promoted the replica');
    const failed = outcomes.filter((o) => !o.ok).length;
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    assert.ok(failed > 0, 'the failover was seen by the load');
    assert.ok(
      outcomes.slice(-20).every((o) => o.ok),
      'the store follows the new master by itself',
    );
    assert.ok(slowest < COMMAND_TIMEOUT_MS + 1500, `slowest call ${Math.round(slowest)} ms`);
    process.stdout.write(
      `# sentinel failover: ${outcomes.length} calls in ${Math.round(performance.now() - started)} ms, ${failed} failed fast, slowest ${Math.round(slowest)} ms\n`,
    );
    const decisions = await Promise.all(
      Array.from({ length: 300 }, () => store.slidingWindow('after', 100, 60_000)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 100);
  });
});
