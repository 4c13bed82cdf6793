/**
 * Config of the shared state stores (memory by default; Redis when several replicas share state).
 * Durations and sizes are numbers once parsed (see config/schema-parts.ts for why `overwrite`).
 */
import { z } from 'zod';
import { sizeBytesSchema as bytes, timeoutMsSchema as milliseconds } from '../config/schema-parts.ts';

const redisUrl = z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL');

/** The Redis server shared by the replicas of a gateway. */
export const redisStoreSchema = z
  .strictObject({
    url: redisUrl
      .default('redis://127.0.0.1:6379')
      .describe('The Redis URL (redis:// or rediss://, with user, password and db if needed).'),
    cluster: z
      .array(redisUrl)
      .min(1)
      .optional()
      .describe(
        'A Redis Cluster instead of one server: some of its nodes (redis:// URLs; the rest are discovered). The user and password of the first are used for all; url is ignored.',
      ),
    sentinel: z
      .strictObject({
        name: z
          .string()
          .min(1)
          .describe('The master name the sentinels monitor (sentinel monitor <name> …).'),
        nodes: z
          .array(redisUrl)
          .min(1)
          .describe('Some of the sentinels (redis:// URLs of their host and port).'),
      })
      .optional()
      .describe(
        'Redis Sentinel instead of one fixed server: the sentinels say which server is the master, and the client follows a failover. The user and password of url are the master’s; url’s host is ignored.',
      ),
    keyPrefix: z
      .string()
      .max(200)
      .default('chorus:')
      .describe('Prefix of every key Chorus writes, so several gateways can share one Redis.'),
    commandTimeout: milliseconds
      .prefault('100ms')
      .describe('How long one Redis command may take before the store counts as down (keep it short).'),
    connectTimeout: milliseconds.prefault('1s').describe('How long connecting to Redis may take.'),
  })
  .describe('A Redis server: counters and caches shared by every replica.');

/** The in-process store, always there. */
export const memoryStoreSchema = z
  .strictObject({
    cacheSize: bytes
      .prefault('64mb')
      .describe('Most bytes the in-memory caches hold together; the least recently used go first.'),
    maxKeys: z
      .number()
      .int()
      .min(100)
      .max(10_000_000)
      .default(100_000)
      .describe('Most rate-limit and quota keys kept in memory; the least recently used go first.'),
  })
  .describe('The in-memory store of one gateway process.');

/** Where rate-limit counters, quotas and caches live. */
export const storesSchema = z
  .strictObject({
    memory: memoryStoreSchema.prefault({ cacheSize: '64mb', maxKeys: 100_000 }),
    redis: redisStoreSchema.optional().describe('A Redis server; policies use it with `store: redis`.'),
  })
  .describe('Where rate-limit counters and caches live.');

export type StoresConfig = z.output<typeof storesSchema>;
export type RedisStoreConfig = z.output<typeof redisStoreSchema>;

/** The store a policy keeps its state in. */
export const storeNameSchema = z
  .enum(['memory', 'redis'])
  .describe('memory: this process only; redis: shared by every replica (needs stores.redis).');
