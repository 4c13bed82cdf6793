/**
 * The inbound policy modules, in no particular order (the stack orders them by `order`). Until
 * the gateway's one module list takes them over, the compatibility wrappers and the endpoint
 * `policies` schema read this list.
 */
import { authPolicy } from './auth/index.ts';
import { corsPolicy } from './cors/index.ts';
import { ipFilterPolicy } from './ip-filter/index.ts';
import { planLimitsPolicy } from './plan-limits/index.ts';
import { quotaPolicy } from './quota/index.ts';
import { rateLimitPolicy } from './rate-limit/index.ts';
import { responseCachePolicy } from './response-cache/index.ts';

export const inboundPolicyModules = [
  corsPolicy,
  ipFilterPolicy,
  authPolicy,
  planLimitsPolicy,
  rateLimitPolicy,
  quotaPolicy,
  responseCachePolicy,
] as const;
