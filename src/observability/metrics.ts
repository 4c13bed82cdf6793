/**
 * Prometheus metrics (prom-client). One registry for the process, served at /metrics. Policies
 * record through the `policyMetrics` functions below, so they never import prom-client themselves;
 * the server and flow engine add the request and backend-call metrics.
 */
import { Counter, Gauge, Registry } from 'prom-client';

/** The registry /metrics serves. */
export const metricsRegistry = new Registry();

const rateLimitRejections = new Counter({
  name: 'chorus_rate_limit_rejections_total',
  help: 'Requests refused by a rate limit or quota, by endpoint and policy.',
  labelNames: ['endpoint', 'policy'] as const,
  registers: [metricsRegistry],
});

const cacheLookups = new Counter({
  name: 'chorus_cache_lookups_total',
  help: 'Cache lookups by cache (endpoint or endpoint.step) and result (hit, miss, coalesced, error).',
  labelNames: ['cache', 'result'] as const,
  registers: [metricsRegistry],
});

const breakerState = new Gauge({
  name: 'chorus_circuit_breaker_state',
  help: 'Circuit breaker state per service: 0 closed, 1 half-open, 2 open.',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

const upstreamRetries = new Counter({
  name: 'chorus_upstream_retries_total',
  help: 'Retried backend calls, by service and operation.',
  labelNames: ['service', 'operation'] as const,
  registers: [metricsRegistry],
});

const upstreamRejections = new Counter({
  name: 'chorus_upstream_rejections_total',
  help: 'Backend calls refused before reaching the backend, by service and reason (circuit_open, bulkhead_full, retry_budget).',
  labelNames: ['service', 'reason'] as const,
  registers: [metricsRegistry],
});

const authFailures = new Counter({
  name: 'chorus_auth_failures_total',
  help: 'Requests refused by authentication (401) or authorization (403), by endpoint and status.',
  labelNames: ['endpoint', 'status'] as const,
  registers: [metricsRegistry],
});

const BREAKER_STATES = { closed: 0, 'half-open': 1, open: 2 } as const;

/** What policies record. Cheap: label children are cached by prom-client. */
export const policyMetrics = {
  rateLimited(endpoint: string, policy: 'rateLimit' | 'quota'): void {
    rateLimitRejections.inc({ endpoint, policy });
  },
  cache(cache: string, result: 'hit' | 'miss' | 'coalesced' | 'error'): void {
    cacheLookups.inc({ cache, result });
  },
  breaker(service: string, state: keyof typeof BREAKER_STATES): void {
    breakerState.set({ service }, BREAKER_STATES[state]);
  },
  retry(service: string, operation: string): void {
    upstreamRetries.inc({ service, operation });
  },
  upstreamRejected(service: string, reason: 'circuit_open' | 'bulkhead_full' | 'retry_budget'): void {
    upstreamRejections.inc({ service, reason });
  },
  authFailed(endpoint: string, status: 401 | 403): void {
    authFailures.inc({ endpoint, status: String(status) });
  },
};
