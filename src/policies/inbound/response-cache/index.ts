/**
 * The response cache inbound policy module (config key `cache`, order 60): innermost, right
 * around the endpoint's handler, so cached answers still pass the limits and count, and may vary
 * on the consumer auth named.
 */
import type { InboundPolicyModule } from '../../../contracts/policy.ts';
import type { PolicyRuntime } from '../../shared.ts';
import { createResponseCachePolicy } from './response-cache.ts';
import { responseCachePolicySchema } from './schema.ts';

export const responseCachePolicy: InboundPolicyModule<
  typeof responseCachePolicySchema,
  PolicyRuntime,
  'cache'
> = {
  name: 'cache',
  order: 60,
  schema: responseCachePolicySchema,
  create: (config, ctx) => ({ wrap: createResponseCachePolicy(config, ctx) }),
};
