/**
 * One endpoint, compiled: its declared path parameters, its input validator, its steps and
 * their graph, its responses, which step answers are only forwarded, whether it reads the body,
 * and its terminal handler wrapped in its inbound policies by the wiring.
 */
import type { EndpointConfig } from '../config/schema.ts';
import type { ConfigPath } from '../contracts/issues.ts';
import {
  type CompileCache,
  createEndpointCompiler,
  type EndpointCompiler,
  type EngineInputs,
  PATH_PARAM,
} from './compile-context.ts';
import { compileResponse } from './compile-response.ts';
import { type CompiledStep, compileStep, finishStep, repeatedCallsOf } from './compile-steps.ts';
import { createEndpointHandler, type EndpointScope } from './endpoint.ts';
import { forwardOnlySteps } from './forwarding.ts';
import { findCycle, linkFlow } from './graph.ts';
import { compileInputValidator } from './input.ts';
import type { EndpointPlan } from './plan.ts';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What an endpoint is compiled with besides its config. */
export interface EndpointSite {
  readonly inputs: EngineInputs;
  readonly at: ConfigPath;
  /** The endpoint's operation id. */
  readonly id: string;
  /** Environment variables expressions read (env.NAME), gateway-wide. */
  readonly envReads: Set<string>;
  /** Expressions and templates compiled so far, gateway-wide, shared when equal. */
  readonly compileCache?: CompileCache;
  /** The gateway-wide scope (env, vars) its handler reads. */
  readonly shared: EndpointScope;
  /** server.requestTimeout, for endpoints without their own timeout. */
  readonly defaultTimeoutMs: number;
}

/** Compiles an endpoint; undefined when it has problems (all of them reported). */
export async function compileEndpoint(
  endpoint: EndpointConfig,
  site: EndpointSite,
): Promise<EndpointPlan | undefined> {
  const { at, inputs } = site;
  const pathParams = new Set([...endpoint.path.matchAll(PATH_PARAM)].map((match) => match[1]!));
  checkDeclaredParams(endpoint, at, pathParams, inputs);
  const validator = compileInputValidator(endpoint);
  for (const message of validator.issues) inputs.issue([...at, 'input'], message);

  const c = createEndpointCompiler(inputs, endpoint, at, site.id, site.envReads, site.compileCache);
  const compiled: CompiledStep[] = [];
  for (const [index, step] of endpoint.flow.entries()) compiled.push(await compileStep(c, step, index));
  const refsByIndex = compiled.map((entry) => entry.refs);
  const cycle = findCycle(
    endpoint.flow,
    refsByIndex.map((refs) => [...refs]),
  );
  // Reported at the first step of the cycle (a step in it), not at the flow.
  if (cycle)
    inputs.issue([...at, 'flow', c.stepIndex.get(cycle[0]!) ?? 0], `dependency cycle: ${cycle.join(' → ')}`);
  const response = compileResponse(c);
  checkParamReads(c, pathParams);
  if (cycle || compiled.some((entry) => entry.body === undefined)) return undefined;

  // Decided before any call step's body is built: whose answer is only forwarded.
  const forwardOnly = forwardOnlySteps(endpoint.flow, refsByIndex, response);
  const repeatedCalls = repeatedCallsOf(endpoint.flow);
  const flow = linkFlow(
    compiled.map((entry) => finishStep(entry, forwardOnly, repeatedCalls)),
    refsByIndex,
    c.stepIndex,
  );
  const plan = {
    id: site.id,
    method: endpoint.method,
    path: endpoint.path,
    timeoutMs: endpoint.timeout ?? site.defaultTimeoutMs,
    readsBody: readsBody(c),
    sharesCalls: repeatedCalls.size > 0 || endpoint.flow.some((step) => step.batch !== undefined),
    validateInput: validator.validate,
    flow,
    response,
  };
  // Inbound policies (cors, IP lists, auth, rate limits, cache), composed by the wiring, outermost first.
  const inbound = inputs.inbound(endpoint, at, site.id, createEndpointHandler(plan, site.shared));
  return { ...plan, handle: inbound.handle, preflight: inbound.preflight };
}

/** Reports path parameters declared under input.params that the path does not have. */
function checkDeclaredParams(
  endpoint: EndpointConfig,
  at: ConfigPath,
  pathParams: ReadonlySet<string>,
  inputs: EngineInputs,
): void {
  for (const declared of Object.keys(endpoint.input?.params ?? {})) {
    if (!pathParams.has(declared)) {
      inputs.issue(
        [...at, 'input', 'params', declared],
        `path parameter "${declared}" is declared but not in the path ${endpoint.path}`,
        { key: true },
      );
    }
  }
}

/** Reports request.params.X reads of parameters the path does not have. */
function checkParamReads(c: EndpointCompiler, pathParams: ReadonlySet<string>): void {
  for (const read of c.requestReads) {
    const [part, name] = read.split('.');
    if (part === 'params' && name !== undefined && !pathParams.has(name)) {
      c.issue(c.at, `request.params.${name} is read but the path ${c.endpoint.path} has no {${name}}`);
    }
  }
}

/** Whether any part of the endpoint reads the request body (else it is never read). */
function readsBody(c: EndpointCompiler): boolean {
  const { endpoint } = c;
  return (
    endpoint.input?.body !== undefined ||
    [...c.requestReads].some((read) => read === '' || read.startsWith('body')) ||
    // Code steps read the scope in code: give them the body on methods that carry one.
    (endpoint.flow.some((step) => step.code !== undefined) && BODY_METHODS.has(endpoint.method))
  );
}
