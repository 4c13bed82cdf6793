/**
 * The rateLimit inbound policy module (order 40): a sliding window per key. Inside auth, so it
 * can count the consumer auth named, and inside the plan's limits; outside the cache, so cached
 * answers still count.
 */
import type { InboundPolicyModule } from '../../../contracts/policy.ts';
import type { PolicyRuntime } from '../../shared.ts';
import { buildKey, buildLimit, endpointLimitPolicy } from './limit.ts';
import { rateLimitPolicySchema } from './schema.ts';

export const rateLimitPolicy: InboundPolicyModule<typeof rateLimitPolicySchema, PolicyRuntime, 'rateLimit'> =
  {
    name: 'rateLimit',
    order: 40,
    schema: rateLimitPolicySchema,
    create(config, ctx) {
      const name = config.name ?? ctx.endpointId;
      const limit = buildLimit('rateLimit', config, { prefix: `rl:${name}:`, policy: name }, ctx.at, {
        stores: ctx.shared.stores,
        issue: ctx.issue,
        telemetry: ctx.telemetry,
      });
      return { wrap: endpointLimitPolicy(limit, buildKey(config.key, ctx), ctx.endpointId) };
    },
    openapi: () => ({ responses: { 429: 'TooManyRequests' } }),
  };
