/**
 * The in-process store: sliding-window logs and quota counters in an LRU bounded by key count,
 * cached bytes in an LRU bounded by bytes (lru-cache). One per gateway plan; not shared between
 * processes.
 */
import { LRUCache } from 'lru-cache';
import { periodBounds, type QuotaPeriod } from './periods.ts';
import type { LimitDecision, StateStore } from './store.ts';

interface CachedVariant {
  readonly expiresAt: number;
  readonly bytes: Buffer;
}

interface CachedKey {
  readonly variants: ReadonlyMap<string, CachedVariant>;
  readonly size: number;
}

/** A sliding-window log: times in order, counted from `head` (a queue without shifting arrays). */
interface WindowLog {
  times: number[];
  head: number;
}

interface PeriodCounter {
  start: number;
  count: number;
}

/** Options of the memory store. */
export interface MemoryStoreOptions {
  /** Most bytes the caches hold. */
  readonly cacheBytes: number;
  /** Most rate-limit and quota keys held. */
  readonly maxKeys: number;
  /** The clock (tests pass a fake one). */
  readonly now?: () => number;
}

/** Per-key bookkeeping counted on top of the bytes themselves. */
const ENTRY_OVERHEAD = 64;

/** Creates an in-process store. */
export function createMemoryStore(options: MemoryStoreOptions): StateStore {
  const now = options.now ?? Date.now;
  const logs = new LRUCache<string, WindowLog>({ max: options.maxKeys });
  const periods = new LRUCache<string, PeriodCounter>({ max: options.maxKeys });
  const cache = new LRUCache<string, CachedKey>({
    maxSize: Math.max(options.cacheBytes, 1),
    sizeCalculation: (entry) => Math.max(entry.size, 1),
  });

  return {
    kind: 'memory',
    async slidingWindow(key, limit, windowMs) {
      return slidingWindow(logs, key, limit, windowMs, now());
    },
    async periodCount(key, limit, period) {
      return periodCount(periods, key, limit, period, now());
    },
    async cacheGet(key, variant) {
      const entry = cache.get(key)?.variants.get(variant);
      if (entry === undefined) return undefined;
      return entry.expiresAt > now() ? entry.bytes : undefined;
    },
    async cacheSet(key, variant, bytes, ttlMs) {
      const at = now();
      const variants = new Map<string, CachedVariant>();
      let size = key.length + ENTRY_OVERHEAD;
      for (const [name, entry] of cache.peek(key)?.variants ?? []) {
        if (name === variant || entry.expiresAt <= at) continue;
        variants.set(name, entry);
        size += name.length + entry.bytes.length + ENTRY_OVERHEAD;
      }
      variants.set(variant, { expiresAt: at + ttlMs, bytes });
      size += variant.length + bytes.length + ENTRY_OVERHEAD;
      // Larger than the whole cache: lru-cache would refuse it anyway.
      if (size > options.cacheBytes) return;
      cache.set(key, { variants, size });
    },
    async cacheDelete(key) {
      cache.delete(key);
    },
  };
}

function slidingWindow(
  logs: LRUCache<string, WindowLog>,
  key: string,
  limit: number,
  windowMs: number,
  at: number,
): LimitDecision {
  let log = logs.get(key);
  if (log === undefined) {
    log = { times: [], head: 0 };
    logs.set(key, log);
  }
  const { times } = log;
  // Times are appended in order, so the expired ones are at the head.
  while (log.head < times.length && times[log.head]! <= at - windowMs) log.head++;
  if (log.head > 64 && log.head * 2 > times.length) {
    log.times = times.slice(log.head);
    log.head = 0;
  }
  const counted = log.times.length - log.head;
  if (counted < limit) {
    log.times.push(at);
    return { allowed: true, remaining: limit - counted - 1, resetMs: log.times[log.head]! + windowMs - at };
  }
  return { allowed: false, remaining: 0, resetMs: log.times[log.times.length - limit]! + windowMs - at };
}

function periodCount(
  periods: LRUCache<string, PeriodCounter>,
  key: string,
  limit: number,
  period: QuotaPeriod,
  at: number,
): LimitDecision {
  const { start, end } = periodBounds(at, period);
  let counter = periods.get(key);
  if (counter === undefined || counter.start !== start) {
    counter = { start, count: 0 };
    periods.set(key, counter);
  }
  if (counter.count >= limit) return { allowed: false, remaining: 0, resetMs: end - at };
  counter.count++;
  return { allowed: true, remaining: limit - counter.count, resetMs: end - at };
}
