/** What a state store offers the rate limits, quotas and caches: the shape both stores implement. */
import type { ConfigPath, IssueReporter } from '../contracts/issues.ts';
import type { QuotaPeriod } from './periods.ts';

/** The outcome of counting one request against a limit. */
export interface LimitDecision {
  readonly allowed: boolean;
  /** Requests still allowed after this one. */
  readonly remaining: number;
  /** Milliseconds until one more request is allowed (denied), or until the oldest counted one stops counting. */
  readonly resetMs: number;
}

/** A place for counters and cached bytes. Every method rejects when the store cannot be reached. */
export interface StateStore {
  readonly kind: 'memory' | 'redis';
  /** Counts one request in a sliding window of `windowMs` holding at most `limit` requests. */
  slidingWindow(key: string, limit: number, windowMs: number): Promise<LimitDecision>;
  /** Counts one request in the calendar period (UTC) that holds now, at most `limit` per period. */
  periodCount(key: string, limit: number, period: QuotaPeriod): Promise<LimitDecision>;
  /** The bytes stored for a cache key's variant, unless absent or expired. */
  cacheGet(key: string, variant: string): Promise<Buffer | undefined>;
  /** Stores bytes for a cache key's variant for `ttlMs`. */
  cacheSet(key: string, variant: string, value: Buffer, ttlMs: number): Promise<void>;
  /** Removes a cache key with all its variants. */
  cacheDelete(key: string): Promise<void>;
}

/** Where a declared cache lives, found by its name (for invalidation). */
export interface CacheLocation {
  readonly store: 'memory' | 'redis';
  /** Where it is declared, for messages. */
  readonly at: ConfigPath;
}

/** The stores of a plan. */
export interface Stores {
  readonly memory: StateStore;
  /** The Redis store, when `stores.redis` is configured. */
  readonly redis: StateStore | undefined;
  /** The caches the config declares (response caches and step caches), by name. */
  readonly caches: ReadonlyMap<string, CacheLocation>;
  /** The store a policy named; reports an issue at `at` (and gives memory) when Redis is not configured. */
  select(kind: 'memory' | 'redis', at: ConfigPath, issue: IssueReporter): StateStore;
  close(): Promise<void>;
}
