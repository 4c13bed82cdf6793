/**
 * The upstream policies of a service, composed once at load, outermost first. The order is
 * written here and tested; flows never see it:
 *
 *   credentials → retry → circuit breaker → bulkhead → connector (load balancer picks a host)
 *
 * - credentials outermost: a token is fetched once per call, not per attempt, and a token
 *   failure (CHORUS_UPSTREAM_AUTH) is never retried nor counted against the backend.
 * - retry outside the breaker: the breaker sees every attempt (so a failing backend opens it
 *   sooner), and once it opens the next attempt fails with CHORUS_CIRCUIT_OPEN, which is not
 *   retryable, so retries stop at once instead of hammering an open circuit.
 * - bulkhead inside the breaker and the retry: an attempt holds a slot only while it runs (not
 *   during a backoff wait), and an open breaker refuses calls before they take a slot.
 * - the host is chosen per attempt in the connector, so a retry goes to another host.
 */
import type { ServiceConfig } from '../config/schema.ts';
import type { Connector } from '../contracts/connector.ts';
import type { PolicyFactoryContext, UpstreamPolicy } from '../contracts/policy.ts';
import type { HostStatus } from '../transports/http/balancer.ts';
import { Bulkhead, bulkheadPolicy } from './upstream/bulkhead/bulkhead.ts';
import {
  type BreakerStatus,
  breakerOptions,
  CircuitBreaker,
  circuitBreakerPolicy,
} from './upstream/circuit-breaker/circuit-breaker.ts';
import { credentialsPolicy } from './upstream/credentials/credentials.ts';
import { retryOptions, retryPolicy } from './upstream/retry/retry.ts';
import type { UpstreamPolicySettings } from './upstream-schema.ts';

/** What an upstream policy factory gets. */
export interface UpstreamPolicyContext extends PolicyFactoryContext {
  readonly service: string;
  readonly connector: Connector;
}

/** A service's upstream state, for status pages and the portal. */
export interface UpstreamStatus {
  readonly service: string;
  readonly breaker?: BreakerStatus;
  readonly bulkhead?: { readonly active: number; readonly queued: number; readonly maxConcurrent: number };
  readonly hosts?: readonly HostStatus[];
}

/** The live policy objects of each connector; a plan's connectors are its keys, so it goes with the plan. */
const live = new WeakMap<Connector, { breaker?: CircuitBreaker; bulkhead?: Bulkhead }>();

/** The upstream state of a service's connector (breaker, bulkhead, hosts), read when asked. */
export function upstreamStatus(connector: Connector): UpstreamStatus {
  const policies = live.get(connector);
  const status: {
    service: string;
    breaker?: BreakerStatus;
    bulkhead?: NonNullable<UpstreamStatus['bulkhead']>;
    hosts?: readonly HostStatus[];
  } = { service: connector.service };
  if (policies?.breaker) status.breaker = policies.breaker.status();
  if (policies?.bulkhead) {
    const { active, queued, maxConcurrent } = policies.bulkhead;
    status.bulkhead = { active, queued, maxConcurrent };
  }
  const withHosts = connector as Connector & { hosts?: () => HostStatus[] };
  if (typeof withHosts.hosts === 'function') status.hosts = withHosts.hosts();
  return status;
}

/** Builds the policies of one service, outermost first; problems go to ctx.issue. */
export function compileUpstreamPolicies(config: ServiceConfig, ctx: UpstreamPolicyContext): UpstreamPolicy[] {
  const settings: UpstreamPolicySettings = config;
  const at = ['services', ctx.service] as const;
  const policies: UpstreamPolicy[] = [];
  const registered: { breaker?: CircuitBreaker; bulkhead?: Bulkhead } = {};

  if (settings.auth !== undefined) {
    const credentials = credentialsPolicy(ctx.service, settings.auth, [...at, 'auth'], ctx.issue);
    if (credentials) policies.push(credentials);
  }
  if (settings.retry !== undefined) {
    const idempotent = idempotentOperations(ctx.connector, settings.retry.idempotentOperations, ctx);
    policies.push(retryPolicy(retryOptions(ctx.service, settings.retry, idempotent)));
  }
  if (settings.circuitBreaker !== undefined) {
    registered.breaker = new CircuitBreaker(breakerOptions(ctx.service, settings.circuitBreaker));
    policies.push(circuitBreakerPolicy(registered.breaker));
  }
  if (settings.bulkhead !== undefined) {
    registered.bulkhead = new Bulkhead(ctx.service, settings.bulkhead);
    policies.push(bulkheadPolicy(registered.bulkhead));
  }
  live.set(ctx.connector, registered);
  return policies;
}

/**
 * The operations a retry may repeat, decided once at load: those the connector says are
 * idempotent (http by method or `idempotent: true`, graphql queries), and those the retry
 * policy declares safe.
 */
function idempotentOperations(
  connector: Connector,
  declared: readonly string[] | undefined,
  ctx: UpstreamPolicyContext,
): ReadonlySet<string> {
  const operations = connector.describe();
  const names = new Set<string>();
  for (const operation of operations) {
    if (operation.idempotent) names.add(operation.name);
  }
  for (const [index, name] of (declared ?? []).entries()) {
    if (operations.some((operation) => operation.name === name)) names.add(name);
    else {
      ctx.issue(
        ['services', ctx.service, 'retry', 'idempotentOperations', index],
        `service "${ctx.service}" has no operation "${name}"`,
      );
    }
  }
  return names;
}
