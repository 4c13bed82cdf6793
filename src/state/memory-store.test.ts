/** The memory store with a fake clock: sliding windows, calendar periods, the byte-bounded cache. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryStore } from './memory-store.ts';
import { periodBounds } from './periods.ts';

function clockAt(start: number): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('memory store', () => {
  test('a sliding window allows the limit in any window, with no 2x burst at the window edge', async () => {
    const clock = clockAt(1_000_000);
    const store = createMemoryStore({ cacheBytes: 1024, maxKeys: 100, now: clock.now });
    const allowed = async (n: number): Promise<number> => {
      let count = 0;
      for (let i = 0; i < n; i++) if ((await store.slidingWindow('k', 10, 60_000)).allowed) count++;
      return count;
    };
    clock.advance(59_000); // late in a fixed window: a fixed-window limiter would reset at 60 s
    assert.equal(await allowed(15), 10);
    clock.advance(2_000); // a new fixed window would allow 10 more here
    assert.equal(await allowed(15), 0);
    const refused = await store.slidingWindow('k', 10, 60_000);
    assert.equal(refused.resetMs, 58_000, 'the first counted request leaves the window in 58 s');
    clock.advance(58_000);
    assert.equal(await allowed(15), 10);
  });

  test('remaining counts down and keys are independent', async () => {
    const store = createMemoryStore({ cacheBytes: 1024, maxKeys: 100 });
    assert.equal((await store.slidingWindow('a', 3, 1000)).remaining, 2);
    assert.equal((await store.slidingWindow('a', 3, 1000)).remaining, 1);
    assert.equal((await store.slidingWindow('b', 3, 1000)).remaining, 2);
  });

  test('a period counter resets when the next calendar period starts', async () => {
    const start = Date.UTC(2026, 0, 31, 23, 59, 0);
    const clock = clockAt(start);
    const store = createMemoryStore({ cacheBytes: 1024, maxKeys: 100, now: clock.now });
    assert.equal((await store.periodCount('q', 2, 'month')).allowed, true);
    assert.equal((await store.periodCount('q', 2, 'month')).allowed, true);
    const refused = await store.periodCount('q', 2, 'month');
    assert.equal(refused.allowed, false);
    assert.equal(refused.resetMs, 60_000);
    clock.advance(60_000);
    assert.equal((await store.periodCount('q', 2, 'month')).allowed, true);
  });

  test('period bounds: weeks start on Monday, months have their own length', () => {
    const wednesday = Date.UTC(2026, 10, 25, 12);
    assert.deepEqual(periodBounds(wednesday, 'week'), {
      start: Date.UTC(2026, 10, 23),
      end: Date.UTC(2026, 10, 30),
    });
    assert.deepEqual(periodBounds(Date.UTC(2028, 1, 29, 5), 'month'), {
      start: Date.UTC(2028, 1, 1),
      end: Date.UTC(2028, 2, 1),
    });
    assert.deepEqual(periodBounds(Date.UTC(2026, 11, 31, 23), 'month'), {
      start: Date.UTC(2026, 11, 1),
      end: Date.UTC(2027, 0, 1),
    });
  });

  test('the cache keeps variants of a key, expires them, and deletes them together', async () => {
    const clock = clockAt(0);
    const store = createMemoryStore({ cacheBytes: 10_000, maxKeys: 100, now: clock.now });
    await store.cacheSet('k', 'a', Buffer.from('A'), 1000);
    await store.cacheSet('k', 'b', Buffer.from('B'), 2000);
    assert.equal((await store.cacheGet('k', 'a'))?.toString(), 'A');
    assert.equal((await store.cacheGet('k', 'b'))?.toString(), 'B');
    clock.advance(1500);
    assert.equal(await store.cacheGet('k', 'a'), undefined);
    assert.equal((await store.cacheGet('k', 'b'))?.toString(), 'B');
    await store.cacheDelete('k');
    assert.equal(await store.cacheGet('k', 'b'), undefined);
  });

  test('the cache is bounded in bytes: the least recently used go first', async () => {
    const store = createMemoryStore({ cacheBytes: 3_000, maxKeys: 100 });
    const kb = Buffer.alloc(1000, 1);
    await store.cacheSet('one', '', kb, 60_000);
    await store.cacheSet('two', '', kb, 60_000);
    await store.cacheGet('one', '');
    await store.cacheSet('three', '', kb, 60_000);
    assert.ok(await store.cacheGet('one', ''), 'recently used stays');
    assert.equal(await store.cacheGet('two', ''), undefined, 'least recently used went');
    assert.ok(await store.cacheGet('three', ''));
    await store.cacheSet('huge', '', Buffer.alloc(5_000), 60_000);
    assert.equal(await store.cacheGet('huge', ''), undefined, 'larger than the whole cache: not kept');
  });
});
