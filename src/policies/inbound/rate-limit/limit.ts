/**
 * One limit of requests, shared by the rate-limit and quota policies and the limits of a plan:
 * everything is built at load (key function, store, header texts); a request costs one store call
 * per limit. A refusal is 429 with Retry-After and RateLimit headers; answers that pass carry the
 * RateLimit headers too.
 */
import { createHash } from 'node:crypto';
import type { ConfigPath, IssueReporter } from '../../../contracts/issues.ts';
import type { InboundContext, InboundPolicy, Reply } from '../../../contracts/policy.ts';
import type { PolicyTelemetry } from '../../../contracts/telemetry.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { type CompiledExpression, compileExpression } from '../../../expressions/cel.ts';
import type { QuotaPeriod } from '../../../state/periods.ts';
import type { LimitDecision, StateStore, Stores } from '../../../state/store.ts';
import { requestScope } from '../../request-scope.ts';
import type {
  PlanQuotaConfig,
  PlanRateLimitConfig,
  QuotaPolicyConfig,
  RateLimitPolicyConfig,
} from './schema.ts';

type HeaderStyle = 'ietf' | 'x-ratelimit' | 'none';
/** Which policy a limit belongs to (its error code, its metric label). */
export type LimitKind = 'rateLimit' | 'quota';

/** The key of a request: who the limit counts. */
export type KeyFunction = (ctx: InboundContext) => string;

/** One limit, ready to count requests. */
export interface Limit {
  /** Counts the request; throws 429 (or 503 fail-closed); gives the headers for the answer. */
  check(ctx: InboundContext, key: string, endpointId: string): Promise<Record<string, string> | undefined>;
}

/** What building a limit needs of the gateway. */
export interface LimitContext {
  readonly stores: Stores;
  readonly issue: IssueReporter;
  readonly telemetry: PolicyTelemetry;
}

const PERIOD_SECONDS: Record<QuotaPeriod, number> = {
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
};
const LONG_KEY = 200;

/** The limit of an endpoint (rateLimit or quota) as an inbound policy. */
export function endpointLimitPolicy(limit: Limit, keyOf: KeyFunction, endpointId: string): InboundPolicy {
  return (next) => async (ctx) => {
    const headers = await limit.check(ctx, keyOf(ctx), endpointId);
    const reply = await next(ctx);
    return headers === undefined ? reply : withHeaders(reply, headers);
  };
}

/** Builds one limit: its store, its counter and the texts of its headers. */
export function buildLimit(
  kind: LimitKind,
  config: (RateLimitPolicyConfig | PlanRateLimitConfig) | (QuotaPolicyConfig | PlanQuotaConfig),
  names: { readonly prefix: string; readonly policy: string },
  at: ConfigPath,
  ctx: LimitContext,
): Limit {
  const { prefix, policy: policyName } = names;
  const store: StateStore = ctx.stores.select(config.store, at, ctx.issue);
  const telemetry = ctx.telemetry;
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
    const windowMs = config.window;
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
      telemetry.rateLimited(endpointId, kind);
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
export function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
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
export function buildKey(
  key: string,
  ctx: { readonly at: ConfigPath; readonly issue: IssueReporter },
): KeyFunction {
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
