/**
 * Rate limits (sliding window) and quotas (calendar periods) of an endpoint, and the limits of a
 * consumer's plan. Everything is built at load (key function, store, header texts); a request
 * costs one store call per limit. A refusal is 429 with Retry-After and RateLimit headers; answers
 * that pass carry the RateLimit headers too.
 */
import { createHash } from 'node:crypto';
import type { ConfigPath } from '../../../config/issues.ts';
import { parseDuration } from '../../../config/units.ts';
import type { IssueReporter } from '../../../contracts/issues.ts';
import type { InboundContext, InboundPolicy, Reply } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { type CompiledExpression, compileExpression } from '../../../expressions/cel.ts';
import { policyMetrics } from '../../../observability/metrics.ts';
import type { QuotaPeriod } from '../../../state/periods.ts';
import type { LimitDecision, StateStore, Stores } from '../../../state/stores.ts';
import type { InboundPolicyContext, InboundPolicyFactory } from '../../inbound.ts';
import { requestScope } from '../../request-scope.ts';
import type {
  PlanQuotaConfig,
  PlanRateLimitConfig,
  QuotaPolicyConfig,
  RateLimitPolicyConfig,
} from './schema.ts';

type HeaderStyle = 'ietf' | 'x-ratelimit' | 'none';
type LimitKind = 'rateLimit' | 'quota';

/** The key of a request: who the limit counts. */
type KeyFunction = (ctx: InboundContext) => string;

/** One limit, ready to count requests. */
interface Limit {
  /** Counts the request; throws 429 (or 503 fail-closed); gives the headers for the answer. */
  check(ctx: InboundContext, key: string, endpointId: string): Promise<Record<string, string> | undefined>;
}

const PERIOD_SECONDS: Record<QuotaPeriod, number> = {
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
};
const LONG_KEY = 200;

/** The rate limit of an endpoint. */
export const createRateLimitPolicy: InboundPolicyFactory<RateLimitPolicyConfig> = (config, ctx) => {
  const name = config.name ?? ctx.endpointId;
  const limit = buildLimit('rateLimit', config, `rl:${name}:`, name, ctx.runtime.stores, ctx.at, ctx.issue);
  return endpointLimitPolicy(limit, buildKey(config.key, ctx), ctx.endpointId);
};

/** The quota of an endpoint. */
export const createQuotaPolicy: InboundPolicyFactory<QuotaPolicyConfig> = (config, ctx) => {
  const name = config.name ?? ctx.endpointId;
  const limit = buildLimit('quota', config, `q:${name}:`, name, ctx.runtime.stores, ctx.at, ctx.issue);
  return endpointLimitPolicy(limit, buildKey(config.key, ctx), ctx.endpointId);
};

function endpointLimitPolicy(limit: Limit, keyOf: KeyFunction, endpointId: string): InboundPolicy {
  return (next) => async (ctx) => {
    const headers = await limit.check(ctx, keyOf(ctx), endpointId);
    const reply = await next(ctx);
    return headers === undefined ? reply : withHeaders(reply, headers);
  };
}

interface PlanLimits {
  readonly rateLimit: Limit | undefined;
  readonly quota: Limit | undefined;
}

// Built once per plan of the gateway (per Stores), so counters and issues are gateway-wide.
const planLimitsByStores = new WeakMap<Stores, ReadonlyMap<string, PlanLimits>>();

/**
 * The limits of the consumer's plan, on every endpoint (placed right after auth). Counted per
 * consumer across all endpoints. Not a config key: it is there whenever plans have limits.
 */
export function createPlanLimitsPolicy(ctx: InboundPolicyContext): InboundPolicy | undefined {
  const stores = ctx.runtime.stores;
  let plans = planLimitsByStores.get(stores);
  if (plans === undefined) {
    const built = new Map<string, PlanLimits>();
    for (const [planName, plan] of Object.entries(ctx.runtime.plans)) {
      const { rateLimit, quota } = plan as { rateLimit?: PlanRateLimitConfig; quota?: PlanQuotaConfig };
      const at: ConfigPath = ['plans', planName];
      const policyName = `plan-${planName}`;
      const limits: PlanLimits = {
        rateLimit:
          rateLimit &&
          buildLimit(
            'rateLimit',
            rateLimit,
            `plan-rl:${planName}:`,
            policyName,
            stores,
            [...at, 'rateLimit'],
            ctx.issue,
          ),
        quota:
          quota &&
          buildLimit('quota', quota, `plan-q:${planName}:`, policyName, stores, [...at, 'quota'], ctx.issue),
      };
      if (limits.rateLimit || limits.quota) built.set(planName, limits);
    }
    plans = built;
    planLimitsByStores.set(stores, plans);
  }
  if (plans.size === 0) return undefined;
  const byPlan = plans;
  const endpointId = ctx.endpointId;
  return (next) => async (ctx) => {
    const consumer = ctx.consumer;
    const limits = consumer?.plan === undefined ? undefined : byPlan.get(consumer.plan);
    if (consumer === undefined || limits === undefined) return next(ctx);
    const key = `c:${consumer.id}`;
    const rateHeaders = limits.rateLimit && (await limits.rateLimit.check(ctx, key, endpointId));
    const quotaHeaders = limits.quota && (await limits.quota.check(ctx, key, endpointId));
    let reply = await next(ctx);
    if (rateHeaders) reply = withHeaders(reply, rateHeaders);
    if (quotaHeaders) reply = withHeaders(reply, quotaHeaders);
    return reply;
  };
}

function buildLimit(
  kind: LimitKind,
  config: (RateLimitPolicyConfig | PlanRateLimitConfig) | (QuotaPolicyConfig | PlanQuotaConfig),
  prefix: string,
  policyName: string,
  stores: Stores,
  at: ConfigPath,
  issue: IssueReporter,
): Limit {
  const store: StateStore = stores.select(config.store, at, issue);
  const failOpen = config.onStoreError === 'open';
  const style: HeaderStyle = config.headers;
  const quoted = `"${policyName.replace(/[^\w.-]/g, '_')}"`;
  let count: (key: string) => Promise<LimitDecision>;
  let windowSeconds: number;
  if ('period' in config) {
    const period = config.period;
    const limit = config.limit;
    windowSeconds = PERIOD_SECONDS[period];
    count = (key) => store.periodCount(key, limit, period);
  } else {
    const windowMs = parseDuration(config.window) ?? 60_000;
    const limit = config.limit;
    windowSeconds = Math.ceil(windowMs / 1000);
    count = (key) => store.slidingWindow(key, limit, windowMs);
  }
  const policyHeader = `${quoted};q=${config.limit};w=${windowSeconds}`;
  const code = kind === 'rateLimit' ? 'CHORUS_RATE_LIMITED' : 'CHORUS_QUOTA_EXCEEDED';
  const limitText = String(config.limit);
  const headersOf = (decision: LimitDecision): Record<string, string> | undefined => {
    const reset = Math.max(0, Math.ceil(decision.resetMs / 1000));
    if (style === 'ietf') {
      return {
        'ratelimit-policy': policyHeader,
        ratelimit: `${quoted};r=${decision.remaining};t=${reset}`,
      };
    }
    if (style === 'x-ratelimit') {
      return {
        'x-ratelimit-limit': limitText,
        'x-ratelimit-remaining': String(decision.remaining),
        'x-ratelimit-reset': String(reset),
      };
    }
    return undefined;
  };
  return {
    async check(ctx, key, endpointId) {
      let decision: LimitDecision;
      try {
        decision = await count(prefix + key);
      } catch (cause) {
        if (failOpen) return undefined;
        throw new ChorusError(
          'CHORUS_POLICY_STORE_UNAVAILABLE',
          `the ${kind === 'rateLimit' ? 'rate limit' : 'quota'} store (${store.kind}) is not reachable`,
          { cause, extras: { store: store.kind } },
        );
      }
      if (decision.allowed) return headersOf(decision);
      policyMetrics.rateLimited(endpointId, kind);
      const retryAfter = Math.max(1, Math.ceil(decision.resetMs / 1000));
      ctx.logger.debug({ requestId: ctx.requestId, policy: policyName, kind, retryAfter }, 'limit reached');
      throw new ChorusError(
        code,
        kind === 'rateLimit'
          ? `rate limit of ${config.limit} per ${windowSeconds}s reached; retry in ${retryAfter}s`
          : `quota of ${config.limit} per ${'period' in config ? config.period : ''} used up; retry in ${retryAfter}s`,
        { extras: { retryAfter }, headers: { ...headersOf(decision), 'retry-after': String(retryAfter) } },
      );
    },
  };
}

/** Adds limit headers to an answer; several limits on one answer are listed, one after the other. */
function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
  const merged: Record<string, string> = { ...reply.headers };
  for (const [name, value] of Object.entries(headers)) {
    const existing = merged[name];
    if (existing === undefined) merged[name] = value;
    else if (name === 'ratelimit' || name === 'ratelimit-policy') merged[name] = `${existing}, ${value}`;
    else if (name === 'x-ratelimit-remaining' && Number(value) < Number(existing)) {
      // X-RateLimit-* name one limit: the one closest to refusing.
      merged['x-ratelimit-limit'] = headers['x-ratelimit-limit']!;
      merged['x-ratelimit-remaining'] = value;
      merged['x-ratelimit-reset'] = headers['x-ratelimit-reset']!;
    }
  }
  return { ...reply, headers: merged };
}

/** Builds the key function of a limit at load. */
function buildKey(key: string, ctx: InboundPolicyContext): KeyFunction {
  if (key === 'ip') return (request) => `ip:${request.clientIp}`;
  if (key === 'consumer') {
    return (request) => (request.consumer ? `c:${request.consumer.id}` : `ip:${request.clientIp}`);
  }
  if (key === 'apiKey') {
    return (request) =>
      request.consumer?.keyId !== undefined ? `k:${request.consumer.keyId}` : `ip:${request.clientIp}`;
  }
  const source = key.trim().slice(2, -2).trim();
  const at: ConfigPath = [...ctx.at, 'key'];
  let expression: CompiledExpression;
  try {
    expression = compileExpression(source, REQUEST_ONLY);
  } catch (error) {
    ctx.issue(at, `expression "${source}": ${(error as Error).message}`);
    return (request) => `ip:${request.clientIp}`;
  }
  if ([...expression.requestReads].some((read) => read.startsWith('body'))) {
    ctx.issue(at, 'a limit key cannot read request.body (limits run before the body is read)');
  }
  return (request) => {
    let value: unknown;
    try {
      value = expression.evaluate({ request: requestScope(request) });
    } catch (cause) {
      throw new ChorusError('CHORUS_EXPRESSION_FAILED', `rate limit key: ${(cause as Error).message}`, {
        cause,
      });
    }
    if (value === null || value === undefined || value === '') return `ip:${request.clientIp}`;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return text.length > LONG_KEY
      ? `xh:${createHash('sha256').update(text).digest('base64url')}`
      : `x:${text}`;
  };
}

const REQUEST_ONLY: ReadonlySet<string> = new Set(['request']);
