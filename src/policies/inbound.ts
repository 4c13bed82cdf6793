/**
 * The inbound policies of an endpoint, composed once at load, outermost first:
 *
 *   cors → ipFilter → auth → (plan limits) → rateLimit → quota → cache → the endpoint's handler
 *
 * CORS is outermost so even refusals carry its headers; the IP filter refuses before any key is
 * checked; auth names the consumer that rate limits and quotas count; the cache sits inside the
 * limits so cached answers still count, and may vary on the consumer.
 * An endpoint's own entry replaces the gateway default of the same name; `false` turns it off.
 */
import type { ConfigPath } from '../config/issues.ts';
import type { EndpointConfig } from '../config/schema.ts';
import type { InboundPolicy, PolicyFactoryContext } from '../contracts/policy.ts';
import { createAuthPolicy } from './inbound/auth/auth.ts';
import { createResponseCachePolicy } from './inbound/response-cache/response-cache.ts';
import { createCorsPolicy } from './inbound/cors/cors.ts';
import { createIpFilterPolicy } from './inbound/ip-filter/ip-filter.ts';
import { createPlanLimitsPolicy, createQuotaPolicy, createRateLimitPolicy } from './inbound/rate-limit/rate-limit.ts';
import type { PolicyRuntime } from './runtime.ts';
import type { EndpointPoliciesConfig } from './schema.ts';

/** What an inbound policy factory gets besides its own config. */
export interface InboundPolicyContext extends PolicyFactoryContext {
  readonly runtime: PolicyRuntime;
  readonly endpoint: EndpointConfig;
  /** The endpoint's operation id (for metrics, cache keys, logs). */
  readonly endpointId: string;
  /** Where this policy's config is: under the endpoint, or the gateway default. */
  readonly at: ConfigPath;
}

/** Builds a policy, or undefined when the config makes it a no-op. Issues go to ctx.issue. */
export type InboundPolicyFactory<Config> = (
  config: Config,
  ctx: InboundPolicyContext,
) => InboundPolicy | undefined;

const ORDER = ['cors', 'ipFilter', 'auth', 'rateLimit', 'quota', 'cache'] as const;
type PolicyName = (typeof ORDER)[number];

const FACTORIES: {
  [Name in PolicyName]: InboundPolicyFactory<Exclude<EndpointPoliciesConfig[Name], false | undefined>>;
} = {
  cors: createCorsPolicy,
  ipFilter: createIpFilterPolicy,
  auth: createAuthPolicy,
  rateLimit: createRateLimitPolicy,
  quota: createQuotaPolicy,
  cache: createResponseCachePolicy,
};

/** The endpoint's inbound policies, outermost first. */
export function compileInboundPolicies(
  endpoint: EndpointConfig,
  endpointAt: ConfigPath,
  endpointId: string,
  defaults: EndpointPoliciesConfig,
  ctx: PolicyFactoryContext & { runtime: PolicyRuntime },
): InboundPolicy[] {
  const policies: InboundPolicy[] = [];
  for (const name of ORDER) {
    if (name === 'rateLimit') {
      // The limits of the consumer's plan (set by auth), on every endpoint: not a config key.
      const planLimits = createPlanLimitsPolicy({ ...ctx, endpoint, endpointId, at: ['plans'] });
      if (planLimits) policies.push(planLimits);
    }
    const own = endpoint.policies?.[name];
    const config = own !== undefined ? own : defaults[name];
    if (config === undefined || config === false) continue;
    const at: ConfigPath = own !== undefined ? [...endpointAt, 'policies', name] : ['policies', name];
    const factory = FACTORIES[name] as InboundPolicyFactory<typeof config>;
    const policy = factory(config, { ...ctx, endpoint, endpointId, at });
    if (policy) policies.push(policy);
  }
  return policies;
}
