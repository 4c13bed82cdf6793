/**
 * config → the engine's part of the plan. Everything that can be decided once is decided here:
 * compiled expressions and templates, dependency graphs, input validators, which answers are
 * only forwarded, the limits of the server. The connectors and the policy stacks it uses are
 * built by the wiring (src/gateway.ts) and handed in as `EngineInputs`; every problem goes to
 * the wiring's issue reporter, with its place in the config file.
 */

import { resolveOperationIds } from '../config/operation-ids.ts';
import type { ConfigPath } from '../contracts/issues.ts';
import { createCompileCache, type EngineInputs, PATH_PARAM } from './compile-context.ts';
import { compileEndpoint } from './compile-endpoint.ts';
import type { EndpointScope } from './endpoint.ts';
import type { EndpointPlan, GatewayPlan } from './plan.ts';

export type {
  EngineInputs,
  InboundStack,
  InboundWiring,
  ServiceBinding,
  StepBody,
  StepWrapContext,
  StepWrapping,
} from './compile-context.ts';

/** The parts of a plan the wiring adds: what it built (connectors, policy runtime) and their state. */
export type WiredPlanParts = 'connectors' | 'clientIp' | 'upstreams' | 'openApi' | 'close';

/** What the engine compiles from a config: the plan but for what the wiring built. */
export type CompiledGateway = Omit<GatewayPlan, WiredPlanParts>;

/** Compiles every endpoint of the config; problems go to inputs.issue. */
export async function compileGateway(inputs: EngineInputs): Promise<CompiledGateway> {
  const { config } = inputs;
  // Expressions see only the environment variables they name (env.NAME), filled in after compiling.
  const env: Record<string, string> = {};
  const envReads = new Set<string>();
  const compileCache = createCompileCache();
  const shared: EndpointScope = { env, vars: Object.freeze(config.vars) };
  const operationIds = resolveOperationIds(config.endpoints);
  const routes = new Map<string, number>();
  const requestTimeoutMs = config.server.requestTimeout;
  const endpoints: EndpointPlan[] = [];
  for (const [index, endpoint] of config.endpoints.entries()) {
    const at: ConfigPath = ['endpoints', index];
    const routeKey = `${endpoint.method} ${endpoint.path.replace(PATH_PARAM, '{}')}`;
    const previous = routes.get(routeKey);
    if (previous !== undefined) {
      inputs.issue(
        [...at, 'path'],
        `duplicate route ${endpoint.method} ${endpoint.path} (also endpoints[${previous}])`,
      );
    } else routes.set(routeKey, index);
    const plan = await compileEndpoint(endpoint, {
      inputs,
      at,
      id: operationIds[index]!,
      envReads,
      compileCache,
      shared,
      defaultTimeoutMs: requestTimeoutMs,
    });
    if (plan) endpoints.push(plan);
  }
  for (const name of envReads) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.freeze(env);
  return {
    config,
    endpoints,
    env: shared.env,
    vars: shared.vars,
    bodyLimit: config.server.bodyLimit,
    jsonDepthLimit: config.server.jsonDepthLimit,
    requestTimeoutMs,
    shutdownGraceMs: config.server.shutdownGrace,
    // Only these decide readiness: an unused broker service does not hold it back.
    calledServices: new Set(
      endpoints.flatMap((endpoint) => endpoint.flow.steps.flatMap((step) => step.target?.service ?? [])),
    ),
  };
}
