/**
 * The quota inbound policy module (order 50): a longer limit over calendar periods (UTC), right
 * inside the rate limit, so a request the rate limit refuses does not spend quota.
 */
import type { InboundPolicyModule } from '../../../contracts/policy.ts';
import type { PolicyRuntime } from '../../shared.ts';
import { buildKey, buildLimit, endpointLimitPolicy } from '../rate-limit/limit.ts';
import { quotaPolicySchema } from '../rate-limit/schema.ts';

export const quotaPolicy: InboundPolicyModule<typeof quotaPolicySchema, PolicyRuntime, 'quota'> = {
  name: 'quota',
  order: 50,
  schema: quotaPolicySchema,
  create(config, ctx) {
    const name = config.name ?? ctx.endpointId;
    const limit = buildLimit('quota', config, { prefix: `q:${name}:`, policy: name }, ctx.at, {
      stores: ctx.shared.stores,
      issue: ctx.issue,
      telemetry: ctx.telemetry,
    });
    return { wrap: endpointLimitPolicy(limit, buildKey(config.key, ctx), ctx.endpointId) };
  },
  openapi: () => ({ responses: { 429: 'TooManyRequests' } }),
};
