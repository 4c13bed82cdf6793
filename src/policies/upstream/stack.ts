/**
 * The one way a service's upstream policies are stacked, from a list of modules. Outermost
 * first, by the modules' `order`; flows never see it:
 *
 *   HTTP cache (5) → credentials (10) → retry (20) → circuit breaker (30) → bulkhead (40) → connector
 *
 * - the HTTP cache (src/policies/cache/) outermost: a hit needs no token nor a breaker slot, and
 *   stale-if-error covers an open breaker and retries given up.
 * - credentials outermost: a token is fetched once per call, not per attempt, and a token
 *   failure (CHORUS_UPSTREAM_AUTH) is never retried nor counted against the backend.
 * - retry outside the breaker: the breaker sees every attempt (so a failing backend opens it
 *   sooner), and once it opens the next attempt fails with CHORUS_CIRCUIT_OPEN, which is not
 *   retryable, so retries stop at once instead of hammering an open circuit.
 * - bulkhead inside the breaker and the retry: an attempt holds a slot only while it runs (not
 *   during a backoff wait), and an open breaker refuses calls before they take a slot.
 * - the host is chosen per attempt in the connector (load balancer), so a retry goes to another host.
 *
 * The upstream policy fields of every service kind are built from the same list.
 */
import type { z } from 'zod';
import type { Connector, HostStatus } from '../../contracts/connector.ts';
import type { PolicyFactoryContext, UpstreamPolicy, UpstreamPolicyModule } from '../../contracts/policy.ts';
import { inOrder } from '../compose.ts';
import type { BreakerStatus } from './circuit-breaker/circuit-breaker.ts';

/** An entry of the upstream list. */
export type UpstreamModule = UpstreamPolicyModule<z.ZodType>;

/** A service's upstream state, for status pages and the portal. */
export interface UpstreamStatus {
  readonly service: string;
  readonly breaker?: BreakerStatus;
  readonly bulkhead?: { readonly active: number; readonly queued: number; readonly maxConcurrent: number };
  readonly hosts?: readonly HostStatus[];
}

/** A service's upstream policies, outermost first, and its live state. */
export interface UpstreamStack {
  readonly policies: readonly UpstreamPolicy[];
  /** The state of the service now (breaker, bulkhead, hosts), read when asked. */
  status(): UpstreamStatus;
}

/** What building a service's stack needs besides its config. */
export interface UpstreamStackContext extends PolicyFactoryContext {
  readonly service: string;
  readonly connector: Connector;
}

/** Builds a service's upstream stack from its config entry; problems go to ctx.issue. */
export function buildUpstreamStack(
  modules: readonly UpstreamModule[],
  serviceConfig: Readonly<Record<string, unknown>>,
  ctx: UpstreamStackContext,
): UpstreamStack {
  const policies: UpstreamPolicy[] = [];
  const statuses: (() => Readonly<Record<string, unknown>>)[] = [];
  for (const module of inOrder(modules)) {
    const config = serviceConfig[module.name];
    if (config === undefined) continue;
    const built = module.create(config, { ...ctx, at: ['services', ctx.service, module.name] });
    if (built === undefined) continue;
    policies.push(built.wrap);
    if (built.status) statuses.push(() => built.status!());
  }
  const { service, connector } = ctx;
  return {
    policies,
    status() {
      const status: Record<string, unknown> = { service };
      for (const read of statuses) Object.assign(status, read());
      if (typeof connector.hosts === 'function') status.hosts = connector.hosts();
      return status as unknown as UpstreamStatus;
    },
  };
}

/** The shape of the upstream policy fields of a service: each module's schema, optional. */
export type UpstreamPolicyShape<Modules extends readonly UpstreamModule[]> = {
  [Module in Modules[number] as Module['name']]: z.ZodOptional<Module['schema']>;
};

/** The upstream policy fields every service kind gets (spread into each connector's service schema). */
export function upstreamPolicyFieldsOf<const Modules extends readonly UpstreamModule[]>(
  modules: Modules,
): UpstreamPolicyShape<Modules> {
  return Object.fromEntries(
    modules.map((module) => [module.name, module.schema.optional()]),
  ) as UpstreamPolicyShape<Modules>;
}
