/**
 * The retry policy of a service. A call is tried again only when its operation is idempotent
 * (or declared safe), the failure is retryable (connect errors, 502/503/504, declared statuses,
 * timeouts of the call's own limit), the service's retry budget allows it, and the next attempt
 * still fits before the request deadline with time enough to be worth making (after its wait, at
 * least max(50 ms, that wait) left). Waits are exponential with full jitter (AWS
 * architecture blog), at least the backend's Retry-After. Each attempt gets
 * min(step timeout, time left) afresh. Hand-written rather than Cockatiel: the budget, the
 * deadline and the connectors' retryable flag are what decide here, and they are ours.
 */
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import type { UpstreamHandler, UpstreamPolicy } from '../../../contracts/policy.ts';
import type { PolicyTelemetry } from '../../../contracts/telemetry.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { RetryBudget } from './retry-budget.ts';
import type { RetryPolicyConfig } from './schema.ts';

/** What the retry policy decides at load. */
export interface RetryOptions {
  readonly service: string;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetryAfterMs: number;
  /** Statuses retried besides those the connector marks retryable. */
  readonly statuses: ReadonlySet<number>;
  /** Operations that may be repeated. */
  readonly idempotent: ReadonlySet<string>;
  readonly budget: RetryBudget;
  /** Where retries and budget refusals are reported. */
  readonly telemetry: PolicyTelemetry;
  /** For tests: the random source of the jitter. */
  readonly random?: () => number;
}

/** Builds the options from the config; `idempotent` is the set decided from the operations at load. */
export function retryOptions(
  service: string,
  config: RetryPolicyConfig,
  idempotent: ReadonlySet<string>,
  telemetry: PolicyTelemetry,
): RetryOptions {
  return {
    service,
    attempts: config.attempts,
    backoffMs: config.backoff,
    maxBackoffMs: config.maxBackoff,
    maxRetryAfterMs: config.maxRetryAfter,
    statuses: new Set(config.on ?? []),
    idempotent,
    budget: new RetryBudget(config.budget.ratio, config.budget.minRetries, config.budget.window),
    telemetry,
  };
}

/** The retry policy. */
export function retryPolicy(options: RetryOptions): UpstreamPolicy {
  const random = options.random ?? Math.random;
  return (next: UpstreamHandler): UpstreamHandler =>
    async (call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> => {
      options.budget.recordCall();
      if (options.attempts <= 1 || !options.idempotent.has(call.operation)) return next(call, ctx);
      // The step's own limit, when the deadline did not already cap the first attempt.
      const stepTimeoutMs = call.deadlineBound ? Number.POSITIVE_INFINITY : call.timeoutMs;
      let attemptCall = call;
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(attemptCall, ctx);
        } catch (error) {
          if (attempt >= options.attempts || call.signal.aborted) throw error;
          const retryAfterMs = retryAfterOf(error, options);
          if (retryAfterMs === undefined) throw error;
          const ceiling = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (attempt - 1));
          const waitMs = Math.max(retryAfterMs, Math.floor(random() * ceiling));
          // Every attempt must fit before the deadline, with time enough to be worth making.
          if (!timeForAnother(call.deadline, waitMs)) throw error;
          if (!options.budget.tryRetry()) {
            options.telemetry.upstreamRejected(options.service, 'retry_budget');
            throw error;
          }
          options.telemetry.retry(options.service, call.operation);
          const reason = error instanceof ChorusError ? error.code : 'error';
          ctx.span?.addEvent('retry', { attempt: attempt + 1, reason, 'wait.ms': waitMs });
          ctx.logger.debug(
            { service: options.service, operation: call.operation, attempt: attempt + 1, reason, waitMs },
            'retrying a failed backend call',
          );
          if (waitMs > 0 && !(await sleep(waitMs, call.signal))) throw error;
          const following = nextAttempt(call, stepTimeoutMs);
          if (following === undefined) throw error;
          attemptCall = following;
        }
      }
    };
}

/**
 * How long the backend asks to wait before a retry (0 when it does not say), or undefined when
 * the failure must not be retried.
 */
function retryAfterOf(error: unknown, options: RetryOptions): number | undefined {
  if (!(error instanceof ChorusError)) return undefined;
  const status = error.extras.upstreamStatus;
  const declared = typeof status === 'number' && options.statuses.has(status);
  if (!error.retryable && !declared) return undefined;
  const headers = (error.data as { headers?: Record<string, unknown> } | undefined)?.headers;
  const header = headers?.['retry-after'];
  if (typeof header !== 'string') return 0;
  const ms = parseRetryAfter(header);
  if (ms === undefined) return 0;
  return ms > options.maxRetryAfterMs ? undefined : ms;
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The least time an attempt is started with: a shorter one would only time out. */
export const MIN_ATTEMPT_MS = 50;

/**
 * Whether another attempt is worth making: after waiting `waitMs`, at least max(MIN_ATTEMPT_MS,
 * waitMs) must be left before the deadline (an attempt given less time than the backoff before it
 * is more likely to time out than to answer, and would only delay the client's error).
 */
function timeForAnother(deadline: number | undefined, waitMs: number): boolean {
  if (deadline === undefined) return true;
  return deadline - Date.now() - waitMs >= Math.max(MIN_ATTEMPT_MS, waitMs);
}

/** The next attempt's call, with min(step timeout, time left) computed now; undefined when no time is left. */
function nextAttempt(call: ConnectorCall, stepTimeoutMs: number): ConnectorCall | undefined {
  if (call.deadline === undefined) return call;
  const remaining = call.deadline - Date.now();
  if (remaining < MIN_ATTEMPT_MS) return undefined;
  const deadlineBound = remaining <= stepTimeoutMs;
  return { ...call, timeoutMs: deadlineBound ? remaining : stepTimeoutMs, deadlineBound };
}

/** Waits, or resolves false at once when the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
