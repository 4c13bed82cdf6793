/**
 * Compatibility wrappers over the inbound stack (./inbound/stack.ts), with the signatures the
 * engine and the server call today. Once they build their stacks with buildInboundStack and
 * keep its `preflight` beside the endpoint, this file goes, and its WeakMap with it.
 */
import type { ConfigPath } from '../contracts/issues.ts';
import type {
  InboundHandler,
  InboundPolicy,
  PolicyFactoryContext,
  PreflightHandler,
} from '../contracts/policy.ts';
import { inboundPolicyModules } from './inbound/modules.ts';
import { buildInboundStack } from './inbound/stack.ts';
import type { EndpointPoliciesConfig } from './schema.ts';
import type { PolicyRuntime } from './shared.ts';

export type { PreflightHandler } from '../contracts/policy.ts';

// The composed handler of an endpoint → its preflight answer. Only because preflightOf is asked
// with the composed handler: the stack itself returns the preflight.
const preflights = new WeakMap<InboundHandler, PreflightHandler>();

/** The endpoint's inbound policies, outermost first. */
export function compileInboundPolicies(
  endpoint: {
    readonly method: string;
    readonly path: string;
    readonly policies?: EndpointPoliciesConfig | undefined;
  },
  endpointAt: ConfigPath,
  endpointId: string,
  defaults: EndpointPoliciesConfig,
  ctx: PolicyFactoryContext & { runtime: PolicyRuntime },
): InboundPolicy[] {
  const { runtime, ...base } = ctx;
  const stack = buildInboundStack(inboundPolicyModules, endpoint.policies, defaults, {
    ...base,
    shared: runtime,
    endpointId,
    method: endpoint.method,
    path: endpoint.path,
    endpointAt,
  });
  const policies = [...stack.policies];
  const preflight = stack.preflight;
  const outermost = policies[0];
  if (preflight !== undefined && outermost !== undefined) {
    policies[0] = (next) => {
      const handler = outermost(next);
      preflights.set(handler, preflight);
      return handler;
    };
  }
  return policies;
}

/** The preflight answer of an endpoint's composed handler, when the endpoint has a CORS policy. */
export function preflightOf(handler: InboundHandler): PreflightHandler | undefined {
  return preflights.get(handler);
}
