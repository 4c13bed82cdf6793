/**
 * The limits of the consumer's plan (`plans.<name>.rateLimit` / `.quota`), a built-in inbound
 * step on every endpoint (order 35): right after auth, which names the consumer and so its plan,
 * and before the endpoint's own limits. Counted per consumer across all endpoints. Not a config
 * key: it is there whenever plans have limits.
 */
import type { ConfigPath } from '../../../contracts/issues.ts';
import type { BuiltInInboundPolicy, InboundPolicyContext } from '../../../contracts/policy.ts';
import type { Stores } from '../../../state/store.ts';
import type { PolicyRuntime } from '../../shared.ts';
import { buildLimit, type Limit, withHeaders } from '../rate-limit/limit.ts';
import type { PlanQuotaConfig, PlanRateLimitConfig } from '../rate-limit/schema.ts';

interface PlanLimits {
  readonly rateLimit: Limit | undefined;
  readonly quota: Limit | undefined;
}

// Built once per plan of the gateway (per Stores, which the plan owns), so counters and issues are gateway-wide.
const planLimitsByStores = new WeakMap<Stores, ReadonlyMap<string, PlanLimits>>();

/** The limits of every plan that has some, built at the first endpoint of a gateway. */
function plansOf(ctx: InboundPolicyContext<PolicyRuntime>): ReadonlyMap<string, PlanLimits> {
  const stores = ctx.shared.stores;
  const known = planLimitsByStores.get(stores);
  if (known !== undefined) return known;
  const limitCtx = { stores, issue: ctx.issue, telemetry: ctx.telemetry };
  const built = new Map<string, PlanLimits>();
  for (const [planName, plan] of Object.entries(ctx.shared.plans)) {
    const { rateLimit, quota } = plan as { rateLimit?: PlanRateLimitConfig; quota?: PlanQuotaConfig };
    const at: ConfigPath = ['plans', planName];
    const policy = `plan-${planName}`;
    const limits: PlanLimits = {
      rateLimit:
        rateLimit &&
        buildLimit(
          'rateLimit',
          rateLimit,
          { prefix: `plan-rl:${planName}:`, policy },
          [...at, 'rateLimit'],
          limitCtx,
        ),
      quota:
        quota &&
        buildLimit('quota', quota, { prefix: `plan-q:${planName}:`, policy }, [...at, 'quota'], limitCtx),
    };
    if (limits.rateLimit || limits.quota) built.set(planName, limits);
  }
  planLimitsByStores.set(stores, built);
  return built;
}

export const planLimitsPolicy: BuiltInInboundPolicy<PolicyRuntime, 'planLimits'> = {
  name: 'planLimits',
  order: 35,
  builtIn: true,
  create(ctx) {
    const byPlan = plansOf(ctx);
    if (byPlan.size === 0) return undefined;
    const endpointId = ctx.endpointId;
    return {
      wrap: (next) => async (request) => {
        const consumer = request.consumer;
        const limits = consumer?.plan === undefined ? undefined : byPlan.get(consumer.plan);
        if (consumer === undefined || limits === undefined) return next(request);
        const key = `c:${consumer.id}`;
        const rateHeaders = limits.rateLimit && (await limits.rateLimit.check(request, key, endpointId));
        const quotaHeaders = limits.quota && (await limits.quota.check(request, key, endpointId));
        let reply = await next(request);
        if (rateHeaders) reply = withHeaders(reply, rateHeaders);
        if (quotaHeaders) reply = withHeaders(reply, quotaHeaders);
        return reply;
      },
    };
  },
};
