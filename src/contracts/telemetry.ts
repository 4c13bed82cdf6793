/**
 * What policies and connectors report, as events; observability implements it and turns the
 * events into metrics. Modules get it from their factory context and never import a
 * process-wide metrics object (Cockatiel's habit: policies emit, observability subscribes).
 */

/**
 * The outcome of one cache lookup: `bypass` when the client's Cache-Control / Pragma asked past the
 * cache, `stale` when a stale entry was served (stale-while-revalidate, stale-if-error),
 * `revalidated` when the backend answered 304 to a conditional request and the entry was refreshed.
 */
export type CacheResult = 'hit' | 'miss' | 'coalesced' | 'error' | 'bypass' | 'stale' | 'revalidated';

/** A circuit breaker's state. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** Why an upstream call was refused before it reached the backend. */
export type UpstreamRejection = 'circuit_open' | 'bulkhead_full' | 'retry_budget';

/** The events policies report. Each call must be cheap: some happen once per request. */
export interface PolicyTelemetry {
  rateLimited(endpoint: string, policy: 'rateLimit' | 'quota'): void;
  cache(cache: string, result: CacheResult): void;
  breaker(service: string, state: BreakerState): void;
  retry(service: string, operation: string): void;
  upstreamRejected(service: string, reason: UpstreamRejection): void;
  authFailed(endpoint: string, status: 401 | 403): void;
}
