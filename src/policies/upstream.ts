/**
 * Compatibility wrappers over the upstream stack (./upstream/stack.ts), with the signatures the
 * engine and the server call today. Once they keep each service's stack (and ask its status()),
 * this file goes, and its WeakMap with it.
 */
import type { Connector } from '../contracts/connector.ts';
import type { PolicyFactoryContext, UpstreamPolicy } from '../contracts/policy.ts';
import { upstreamPolicyModules } from './upstream/modules.ts';
import { buildUpstreamStack, type UpstreamStatus } from './upstream/stack.ts';

export type { UpstreamStatus } from './upstream/stack.ts';

// Each connector → the status of its stack. Only because upstreamStatus is asked with the
// connector: the stack itself returns status().
const statuses = new WeakMap<Connector, () => UpstreamStatus>();

/** The upstream state of a service's connector (breaker, bulkhead, hosts), read when asked. */
export function upstreamStatus(connector: Connector): UpstreamStatus {
  const status = statuses.get(connector);
  if (status) return status();
  const hosts = connector.hosts?.();
  return hosts === undefined ? { service: connector.service } : { service: connector.service, hosts };
}

/** Builds the policies of one service, outermost first; problems go to ctx.issue. */
export function compileUpstreamPolicies(
  config: object,
  ctx: PolicyFactoryContext & { readonly service: string; readonly connector: Connector },
): UpstreamPolicy[] {
  const stack = buildUpstreamStack(upstreamPolicyModules, config as Readonly<Record<string, unknown>>, ctx);
  statuses.set(ctx.connector, () => stack.status());
  return [...stack.policies];
}
