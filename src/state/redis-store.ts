/**
 * The Redis store (ioredis): shared by every replica. Counters are one Lua script per check (atomic,
 * one round trip, Redis's clock); every key has a TTL. An outage fails fast: no offline queue, a
 * short command timeout; the client reconnects by itself and the store works again when Redis is
 * back.
 *
 * Behind Redis Sentinel (`sentinel:`), the client asks the sentinels for the master and again
 * after a failover. Against a Redis Cluster (`cluster:`) the same: every script and every transaction touches one
 * key, so one hash slot, and needs no hash tag. During a master's failover the commands for its
 * slots fail (the policies' onStoreError decides) until the cluster has promoted a replica and
 * the client has followed the slot map (MOVED, or its own refresh).
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { QuotaPeriod } from './periods.ts';
import { PERIOD_COUNT_SCRIPT, SLIDING_WINDOW_SCRIPT } from './redis-scripts.ts';
import type { RedisStoreConfig } from './schema.ts';
import type { LimitDecision, StateStore } from './store.ts';

/** The part of an ioredis client this store uses, with the two Lua commands defineCommand adds. */
interface RedisClient {
  readonly status: string;
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  hgetBuffer(key: string, field: string): Promise<Buffer | null>;
  del(key: string): Promise<number>;
  multi(): {
    hset(key: string, field: string, value: Buffer): unknown;
    pexpire(key: string, ms: number): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  off(event: string, listener: (...args: unknown[]) => void): void;
  disconnect(): void;
  chorusWindow(key: string, limit: number, windowMs: number, member: string): Promise<number[]>;
  chorusPeriod(key: string, limit: number, period: string): Promise<number[]>;
}

/** Options of the Redis store, parsed at load. */
export interface RedisStoreOptions {
  readonly config: RedisStoreConfig;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

/** A Redis store and its connection. */
export interface RedisStore extends StateStore {
  /** Resolves when the connection is ready, or after the connect timeout (the store then fails fast until it is). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

// Members of the sliding-window logs: unique across processes without a UUID per request.
const MEMBER_PREFIX = randomBytes(6).toString('base64url');
let memberCounter = 0;

/** Creates the store and starts connecting. */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const { config } = options;
  const client = connect(options);
  const { down, fine } = availability(client, options.logger);
  const prefix = config.keyPrefix;
  const decision = (reply: number[]): LimitDecision => ({
    allowed: reply[0] === 1,
    remaining: Math.max(0, Number(reply[1])),
    resetMs: Math.max(0, Number(reply[2])),
  });

  return {
    kind: 'redis',
    slidingWindow(key, limit, windowMs) {
      memberCounter = (memberCounter + 1) % Number.MAX_SAFE_INTEGER;
      return client
        .chorusWindow(prefix + key, limit, windowMs, `${MEMBER_PREFIX}${memberCounter.toString(36)}`)
        .then((reply) => fine(decision(reply)), down);
    },
    periodCount(key, limit, period: QuotaPeriod) {
      return client.chorusPeriod(prefix + key, limit, period).then((reply) => fine(decision(reply)), down);
    },
    cacheGet(key, variant) {
      return client.hgetBuffer(prefix + key, variant).then((stored) => {
        fine(undefined);
        // The key's TTL is the latest variant's; each variant also carries its own expiry.
        if (stored === null || stored.length < 8 || stored.readDoubleBE(0) <= Date.now()) return undefined;
        return stored.subarray(8);
      }, down);
    },
    async cacheSet(key, variant, bytes, ttlMs) {
      const stored = Buffer.allocUnsafe(8 + bytes.length);
      stored.writeDoubleBE(Date.now() + ttlMs, 0);
      bytes.copy(stored, 8);
      const transaction = client.multi();
      transaction.hset(prefix + key, variant, stored);
      transaction.pexpire(prefix + key, Math.max(1, Math.ceil(ttlMs)));
      const results = await transaction.exec().catch(down);
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) down(failed);
      fine(undefined);
    },
    async cacheDelete(key) {
      await client.del(prefix + key).then(fine, down);
    },
    ready: () => whenReady(client, options.connectTimeoutMs),
    async close() {
      client.disconnect();
    },
  };
}

/** The client (one server, or a cluster), connecting, with the store's scripts defined. */
function connect(options: RedisStoreOptions): RedisClient {
  const settings: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    // Reconnect quickly and forever: the store works again as soon as Redis is back.
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    lazyConnect: false,
  };
  const { cluster, sentinel, url } = options.config;
  // Cast: ioredis types commands added by defineCommand only through declaration merging.
  const client = (cluster !== undefined
    ? connectCluster(cluster, settings)
    : sentinel !== undefined
      ? connectSentinel(sentinel, url, settings)
      : new Redis(url, settings)) as unknown as RedisClient;
  client.defineCommand('chorusWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW_SCRIPT });
  client.defineCommand('chorusPeriod', { numberOfKeys: 1, lua: PERIOD_COUNT_SCRIPT });
  return client;
}

/** A Redis Cluster client: the same fail-fast settings for every node; follows failovers. */
function connectCluster(seeds: readonly string[], settings: RedisOptions): Cluster {
  const nodes = seeds.map(hostAndPort);
  const first = new URL(seeds[0]!);
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    // Keep trying to reach the cluster (a restart of every node) rather than giving up.
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
    // A MOVED after a failover is followed at once; the map is also refreshed on its own.
    slotsRefreshTimeout: 1000,
    slotsRefreshInterval: 5000,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    redisOptions: {
      ...settings,
      ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
      ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/** A client of whichever server the sentinels name master; it asks them again after a failover. */
function connectSentinel(
  sentinel: NonNullable<RedisStoreConfig['sentinel']>,
  url: string,
  settings: RedisOptions,
): Redis {
  const master = new URL(url);
  return new Redis({
    ...settings,
    sentinels: sentinel.nodes.map(hostAndPort),
    name: sentinel.name,
    role: 'master',
    ...(master.username === '' ? {} : { username: decodeURIComponent(master.username) }),
    ...(master.password === '' ? {} : { password: decodeURIComponent(master.password) }),
    ...(/^\/\d+$/.test(master.pathname) ? { db: Number(master.pathname.slice(1)) } : {}),
    // Ask the sentinels again quickly: a failover takes the master away until they elect another.
    sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    // Reconnect to the new master when a sentinel announces a switch, not only on an error.
    failoverDetector: true,
  });
}

function hostAndPort(seed: string): { host: string; port: number } {
  const url = new URL(seed);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 6379 : Number(url.port) };
}

/**
 * Tracks whether Redis answers: `down` logs the first failure of an outage and rethrows, `fine`
 * logs the first success after one. One log line per outage and one per recovery, not one per request.
 */
function availability(
  client: RedisClient,
  logger: RedisStoreOptions['logger'],
): { down: (error: unknown) => never; fine: <T>(value: T) => T } {
  let up = true;
  const markDown = (error: unknown): void => {
    if (!up) return;
    up = false;
    logger.warn({ store: 'redis', err: describe(error) }, 'Redis store unavailable');
  };
  const down = (error: unknown): never => {
    markDown(error);
    throw error;
  };
  const fine = <T>(value: T): T => {
    if (!up) {
      up = true;
      logger.info({ store: 'redis' }, 'Redis store available again');
    }
    return value;
  };
  client.on('error', markDown);
  client.on('ready', () => fine(undefined));
  return { down, fine };
}

/** Resolves when the client is ready, or after the connect timeout. */
function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
