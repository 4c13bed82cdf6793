/**
 * The state stores rate limits, quotas and caches use: memory always, Redis when configured. Built
 * once per plan (the Redis connection is opened at load), closed with the plan.
 */
import { resolveOperationIds } from '../config/operation-ids.ts';
import type { CoreConfig } from '../config/schema.ts';
import type { ConfigPath, IssueReporter } from '../contracts/issues.ts';
import type { PolicyFactoryContext } from '../contracts/policy.ts';
import { createMemoryStore } from './memory-store.ts';
import type { RedisStore } from './redis-store.ts';
import type { StoresConfig } from './schema.ts';
import { memoryStoreSchema } from './schema.ts';
import type { CacheLocation, Stores } from './store.ts';

export type { CacheLocation, LimitDecision, StateStore, Stores } from './store.ts';

/** Builds the stores; waits (at most the connect timeout) for Redis when it is configured. */
/** The config as the stores read it: the core (for the caches it declares) and `stores`. */
export type StoredConfig = CoreConfig & { readonly stores?: StoresConfig | undefined };

export async function createStores(config: StoredConfig, ctx: PolicyFactoryContext): Promise<Stores> {
  const memoryConfig = config.stores?.memory ?? memoryStoreSchema.parse({});
  const memory = createMemoryStore({ cacheBytes: memoryConfig.cacheSize, maxKeys: memoryConfig.maxKeys });
  let redis: RedisStore | undefined;
  const redisConfig = config.stores?.redis;
  if (redisConfig) {
    // ioredis is imported only by a config that names a Redis server.
    const { createRedisStore } = await import('./redis-store.ts');
    redis = createRedisStore({
      config: redisConfig,
      commandTimeoutMs: redisConfig.commandTimeout,
      connectTimeoutMs: redisConfig.connectTimeout,
      logger: ctx.logger,
    });
    await redis.ready();
  }
  return {
    memory,
    redis,
    caches: declaredCaches(config, ctx.issue),
    select(kind, at, issue) {
      if (kind === 'memory') return memory;
      if (redis) return redis;
      issue(
        [...at, 'store'],
        'store: redis needs a Redis server under stores.redis (e.g. stores: { redis: { url: redis://127.0.0.1:6379 } })',
      );
      return memory;
    },
    close: async () => {
      await redis?.close();
    },
  };
}

interface NamedCacheConfig {
  name?: string | undefined;
  store?: 'memory' | 'redis' | undefined;
}

/**
 * The caches the config declares, by name: response caches (default name: the endpoint's id) and
 * step caches (default name: endpointId.stepId). Two caches may share a name only on one store.
 */
function declaredCaches(config: StoredConfig, issue: IssueReporter): Map<string, CacheLocation> {
  const caches = new Map<string, CacheLocation>();
  const add = (name: string, store: 'memory' | 'redis', at: ConfigPath): void => {
    const known = caches.get(name);
    if (known && known.store !== store) {
      issue(
        at,
        `cache "${name}" is also declared on store ${known.store} (at ${known.at.join('.')}); one name, one store`,
      );
      return;
    }
    if (!known) caches.set(name, { store, at });
  };
  const ids = resolveOperationIds(config.endpoints);
  const defaults = config.policies.cache as NamedCacheConfig | false | undefined;
  config.endpoints.forEach((endpoint, index) => {
    const own = endpoint.policies?.cache as NamedCacheConfig | false | undefined;
    const cache = own !== undefined ? own : defaults;
    if (cache !== undefined && cache !== false) {
      const at: ConfigPath =
        own !== undefined ? ['endpoints', index, 'policies', 'cache'] : ['policies', 'cache'];
      add(cache.name ?? ids[index]!, cache.store ?? 'memory', at);
    }
    endpoint.flow.forEach((step, stepIndex) => {
      const stepCache = step.cache as NamedCacheConfig | undefined;
      if (stepCache === undefined) return;
      add(stepCache.name ?? `${ids[index]}.${step.id}`, stepCache.store ?? 'memory', [
        'endpoints',
        index,
        'flow',
        stepIndex,
        'cache',
      ]);
    });
  });
  return caches;
}
