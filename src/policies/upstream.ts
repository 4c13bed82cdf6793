/**
 * The upstream policies of a service, composed once at load, outermost first. The order is
 * written here and tested; flows never see it.
 */
import type { ServiceConfig } from '../config/schema.ts';
import type { Connector } from '../connectors/types.ts';
import type { PolicyFactoryContext } from './runtime.ts';
import type { UpstreamPolicy } from './types.ts';

/** What an upstream policy factory gets. */
export interface UpstreamPolicyContext extends PolicyFactoryContext {
  readonly service: string;
  readonly connector: Connector;
}

// DRAFT: the owner of upstream resilience fills this in (retry, breaker, bulkhead, ...).
export function compileUpstreamPolicies(
  _config: ServiceConfig,
  _ctx: UpstreamPolicyContext,
): UpstreamPolicy[] {
  return [];
}
