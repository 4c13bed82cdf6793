/**
 * config → plan. Everything that can be decided once is decided here: connectors with their
 * pools, compiled expressions and templates, dependency graphs, input validators. Every problem
 * is reported at once with its place in the config file.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { ConfigIssue, ConfigPath } from '../config/issues.ts';
import type { LoadedConfig } from '../config/load.ts';
import { resolveOperationIds } from '../config/operation-ids.ts';
import type { CodeFunction, EndpointConfig, StepConfig } from '../config/schema.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import type { Connector, ConnectorResult } from '../contracts/connector.ts';
import type { UpstreamHandler } from '../contracts/policy.ts';
import { ChorusError } from '../errors/catalogue.ts';
import {
  type CompiledExpression,
  compileExpression,
  ExpressionCompileError,
  toJsonValue,
} from '../expressions/cel.ts';
import { type CompiledTemplate, compileTemplate, type TemplateIssue } from '../expressions/template.ts';
import { RawJson } from '../json/raw.ts';
import { connectorModules, type ResolvedConfig } from '../modules.ts';
import { backendCallMetrics, policyMetrics } from '../observability/metrics.ts';
import { wrapStepCaching } from '../policies/cache/step-cache.ts';
import { composePolicies } from '../policies/compose.ts';
import { compileInboundPolicies } from '../policies/inbound.ts';
import { createPolicyRuntime, type PolicyRuntime } from '../policies/runtime.ts';
import { compileUpstreamPolicies } from '../policies/upstream.ts';
import { createEndpointHandler, type EndpointScope } from './endpoint.ts';
import { compileInputValidator } from './input.ts';
import type {
  EndpointPlan,
  FlowContext,
  FlowPlan,
  GatewayPlan,
  OnErrorPlan,
  ResponseCasePlan,
  ResponsePlan,
  StepPlan,
} from './plan.ts';

/** The outcome of compiling: a plan, or every issue found. */
export type CompileResult = { ok: true; plan: GatewayPlan } | { ok: false; issues: ConfigIssue[] };

const DEFAULT_SERVICE_TIMEOUT_MS = 10_000;
const DEFAULT_FOREACH_CONCURRENCY = 10;
const BASE_VARIABLES = ['request', 'steps', 'env', 'vars'] as const;
const PATH_PARAM = /\{([^}]+)\}/g;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A step reference with the place in the config it comes from. */
interface LocatedRef {
  ref: string;
  at: ConfigPath;
  offset: number | undefined;
}

/** The step references of an expression or a template, each with its own place. */
function locatedRefs(
  source: CompiledExpression | CompiledTemplate | undefined,
  at: ConfigPath,
): LocatedRef[] {
  if (source === undefined) return [];
  if ('expressions' in source) {
    return source.expressions.flatMap((placed) =>
      [...placed.expression.stepRefs].map((ref) => ({
        ref,
        at: [...at, ...placed.path],
        offset: placed.offset,
      })),
    );
  }
  return [...source.stepRefs].map((ref) => ({ ref, at, offset: undefined }));
}

/** Compiles a loaded config into a plan. On issues, connectors already built are closed. */
export async function compilePlan(
  loaded: LoadedConfig<ResolvedConfig>,
  logger: Logger,
): Promise<CompileResult> {
  const { config, file, locate } = loaded;
  const issues: ConfigIssue[] = [];
  const issue = (at: ConfigPath, message: string, options?: { key?: boolean; offset?: number }): void => {
    const position = locate(at, options);
    issues.push(position ? { file, path: at, message, position } : { file, path: at, message });
  };

  const connectors = new Map<string, Connector>();
  const serviceTimeouts = new Map<string, number>();
  await Promise.all(
    Object.entries(config.services).map(async ([name, service]) => {
      serviceTimeouts.set(name, durationOf(service.timeout, DEFAULT_SERVICE_TIMEOUT_MS));
      try {
        const module = connectorModules.get(service.kind)!;
        const built = await module.create(service, { service: name, baseDir: loaded.baseDir, logger });
        if ('issues' in built)
          for (const found of built.issues) issue(['services', name, ...found.path], found.message);
        else connectors.set(name, built);
      } catch (error) {
        issue(['services', name], `service "${name}" could not be set up: ${(error as Error).message}`);
      }
    }),
  );

  const policyCtx = { logger, baseDir: loaded.baseDir, issue, telemetry: policyMetrics };
  const runtime = await createPolicyRuntime(config, policyCtx);
  // Upstream policies (retry, breaker, bulkhead) wrap each service's calls, composed once here.
  const invokers = new Map<string, UpstreamHandler>();
  for (const [name, connector] of connectors) {
    const upstream = compileUpstreamPolicies(config.services[name]!, {
      ...policyCtx,
      service: name,
      connector,
    });
    invokers.set(
      name,
      composePolicies(upstream, (call, callCtx) => connector.call(call, callCtx)),
    );
  }
  // Expressions see only the environment variables they name (env.NAME), filled in after compiling.
  const env: Record<string, string> = {};
  const envReads = new Set<string>();
  const shared: EndpointScope = { env, vars: Object.freeze(config.vars) };

  const operationIds = resolveOperationIds(config.endpoints);
  const routes = new Map<string, number>();
  const requestTimeoutMs = durationOf(config.server.requestTimeout, 30_000);
  const endpoints: EndpointPlan[] = [];
  for (const [index, endpoint] of config.endpoints.entries()) {
    const at: ConfigPath = ['endpoints', index];
    const routeKey = `${endpoint.method} ${endpoint.path.replace(PATH_PARAM, '{}')}`;
    const previous = routes.get(routeKey);
    if (previous !== undefined) {
      issue(
        [...at, 'path'],
        `duplicate route ${endpoint.method} ${endpoint.path} (also endpoints[${previous}])`,
      );
    } else routes.set(routeKey, index);
    const plan = await compileEndpoint(endpoint, {
      at,
      id: operationIds[index]!,
      issue,
      connectors,
      serviceTimeouts,
      services: config.services,
      invokers,
      envReads,
      forwarding: new Map(),
      shared,
      baseDir: loaded.baseDir,
      defaultTimeoutMs: requestTimeoutMs,
      runtime,
      policyDefaults: config.policies,
      logger,
    });
    if (plan) endpoints.push(plan);
  }

  for (const name of envReads) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.freeze(env);

  const close = async (): Promise<void> => {
    await Promise.allSettled([
      ...[...connectors.values()].map((connector) => connector.close()),
      runtime.close(),
    ]);
  };
  if (issues.length > 0) {
    await close();
    return { ok: false, issues };
  }
  return {
    ok: true,
    plan: {
      config,
      endpoints,
      connectors,
      env: shared.env,
      vars: shared.vars,
      bodyLimit: parseSize(config.server.bodyLimit) ?? 1024 * 1024,
      jsonDepthLimit: config.server.jsonDepthLimit,
      requestTimeoutMs,
      shutdownGraceMs: durationOf(config.server.shutdownGrace, 10_000),
      clientIp: runtime.clientIp,
      calledServices: new Set(
        endpoints.flatMap((endpoint) => endpoint.flow.steps.flatMap((step) => step.target?.service ?? [])),
      ),
      close,
    },
  };
}

function durationOf(value: number | string | undefined, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) ?? fallback);
}

interface EndpointContext {
  at: ConfigPath;
  id: string;
  issue: (at: ConfigPath, message: string, options?: { key?: boolean; offset?: number }) => void;
  connectors: ReadonlyMap<string, Connector>;
  serviceTimeouts: ReadonlyMap<string, number>;
  services: Record<string, { operations: Record<string, unknown> }>;
  /** Each service's calls, wrapped in its upstream policies. */
  invokers: ReadonlyMap<string, UpstreamHandler>;
  /** Environment variables expressions read (env.NAME), gateway-wide. */
  envReads: Set<string>;
  /** Per call step of the endpoint being compiled: whether its answer is only forwarded. */
  forwarding: Map<string, { only: boolean }>;
  shared: EndpointScope;
  baseDir: string;
  defaultTimeoutMs: number;
  runtime: PolicyRuntime;
  policyDefaults: ResolvedConfig['policies'];
  logger: Logger;
}

async function compileEndpoint(
  endpoint: EndpointConfig,
  ctx: EndpointContext,
): Promise<EndpointPlan | undefined> {
  const { at, issue } = ctx;
  const pathParams = new Set([...endpoint.path.matchAll(PATH_PARAM)].map((match) => match[1]!));
  for (const declared of Object.keys(endpoint.input?.params ?? {})) {
    if (!pathParams.has(declared)) {
      issue(
        [...at, 'input', 'params', declared],
        `path parameter "${declared}" is declared but not in the path ${endpoint.path}`,
        {
          key: true,
        },
      );
    }
  }
  const validator = compileInputValidator(endpoint);
  for (const message of validator.issues) issue([...at, 'input'], message);

  const stepIndex = new Map<string, number>();
  for (const [index, step] of endpoint.flow.entries()) {
    if (stepIndex.has(step.id)) issue([...at, 'flow', index, 'id'], `duplicate step id "${step.id}"`);
    else stepIndex.set(step.id, index);
  }

  const requestReads = new Set<string>();
  const compileExpr = (
    source: string,
    fieldAt: ConfigPath,
    allowed: ReadonlySet<string>,
  ): CompiledExpression | undefined => {
    try {
      const expr = compileExpression(source, allowed);
      for (const read of expr.requestReads) requestReads.add(read);
      for (const name of expr.envReads) ctx.envReads.add(name);
      return expr;
    } catch (error) {
      const offset = error instanceof ExpressionCompileError ? error.offset : undefined;
      issue(
        fieldAt,
        `expression "${source}": ${(error as Error).message}`,
        offset === undefined ? {} : { offset },
      );
      return undefined;
    }
  };
  const compileTpl = (
    value: unknown,
    fieldAt: ConfigPath,
    allowed: ReadonlySet<string>,
  ): CompiledTemplate => {
    const templateIssues: TemplateIssue[] = [];
    const template = compileTemplate(value, allowed, templateIssues);
    for (const found of templateIssues) {
      issue(
        [...fieldAt, ...found.path],
        found.message,
        found.offset === undefined ? {} : { offset: found.offset },
      );
    }
    for (const read of template.requestReads) requestReads.add(read);
    for (const name of template.envReads) ctx.envReads.add(name);
    return template;
  };

  // Compile each step; collect the step ids each one reads.
  const compiled: {
    step: StepConfig;
    refs: Set<string>;
    plan: Omit<StepPlan, 'dependencies' | 'dependents' | 'traceAttributes'>;
  }[] = [];
  const refsByIndex: Set<string>[] = [];
  for (const [index, step] of endpoint.flow.entries()) {
    const stepAt: ConfigPath = [...at, 'flow', index];
    const base = new Set<string>(BASE_VARIABLES);
    const refs = new Set<string>();
    refsByIndex[index] = refs;
    const collect = (expr: CompiledExpression | CompiledTemplate | undefined, fieldAt: ConfigPath): void => {
      for (const { ref, at: refAt, offset } of locatedRefs(expr, fieldAt)) {
        const options = offset === undefined ? {} : { offset };
        if (!stepIndex.has(ref)) issue(refAt, `unknown step "${ref}"${suggestStep(ref, stepIndex)}`, options);
        else if (ref === step.id) issue(refAt, `step "${step.id}" reads its own output`, options);
        else refs.add(ref);
      }
    };
    for (const [position, ref] of (step.after ?? []).entries()) {
      const afterAt: ConfigPath = [...stepAt, 'after', position];
      if (!stepIndex.has(ref)) issue(afterAt, `unknown step "${ref}"${suggestStep(ref, stepIndex)}`);
      else if (ref === step.id) issue(afterAt, `step "${step.id}" cannot come after itself`);
      else refs.add(ref);
    }
    const when = step.when === undefined ? undefined : compileExpr(step.when, [...stepAt, 'when'], base);
    collect(when, [...stepAt, 'when']);
    const forEach =
      step.forEach === undefined ? undefined : compileExpr(step.forEach, [...stepAt, 'forEach'], base);
    collect(forEach, [...stepAt, 'forEach']);
    const bodyScope = step.forEach === undefined ? base : new Set([...base, 'item', 'index']);
    const onError = compileOnError(step, stepAt, bodyScope, compileExpr);
    if (onError.mode === 'fallback') collect(onError.expression, [...stepAt, 'onError', 'fallback']);
    const body = await compileStepBody(step, stepAt, bodyScope, ctx, compileTpl, collect);
    if (!body) continue;
    const execute = wrapStepCaching(step, body, {
      logger: ctx.logger,
      telemetry: policyMetrics,
      baseDir: ctx.baseDir,
      issue,
      runtime: ctx.runtime,
      endpointId: ctx.id,
      at: stepAt,
      compileExpression: (source, fieldAt) => {
        const expr = compileExpr(source, fieldAt, bodyScope);
        collect(expr, fieldAt);
        return expr;
      },
    });
    const target = step.call === undefined ? undefined : splitCall(step.call);
    compiled.push({
      step,
      refs,
      plan: {
        id: step.id,
        index,
        kind: step.call !== undefined ? 'call' : step.map !== undefined ? 'map' : 'code',
        when,
        forEach,
        concurrency: step.concurrency ?? DEFAULT_FOREACH_CONCURRENCY,
        onError,
        target,
        execute,
      },
    });
  }

  const cycle = findCycle(
    endpoint.flow,
    refsByIndex.map((refs) => [...refs]),
  );
  if (cycle) issue([...at, 'flow'], `dependency cycle: ${cycle.join(' → ')}`);

  const responseAt: ConfigPath = [...at, 'response'];
  const responseScope = new Set<string>([...BASE_VARIABLES, 'warnings']);
  const lastStep = endpoint.flow.at(-1);
  const responseConfigs = Array.isArray(endpoint.response)
    ? endpoint.response
    : [{ status: 200, ...endpoint.response }];
  const checkRefs = (refs: readonly LocatedRef[]): void => {
    for (const { ref, at: refAt, offset } of refs) {
      if (!stepIndex.has(ref)) {
        issue(
          refAt,
          `unknown step "${ref}"${suggestStep(ref, stepIndex)}`,
          offset === undefined ? {} : { offset },
        );
      }
    }
  };
  const cases: ResponseCasePlan[] = responseConfigs.map((config, index) => {
    const caseAt: ConfigPath = Array.isArray(endpoint.response) ? [...responseAt, index] : responseAt;
    const when =
      'when' in config && typeof config.when === 'string'
        ? compileExpr(config.when, [...caseAt, 'when'], responseScope)
        : undefined;
    const body =
      config.body !== undefined
        ? compileTpl(config.body, [...caseAt, 'body'], responseScope)
        : lastStep
          ? compileTpl(`{{ steps.${lastStep.id} }}`, caseAt, responseScope)
          : undefined;
    const status = compileTpl(config.status ?? 200, [...caseAt, 'status'], responseScope);
    const headers = Object.entries(config.headers ?? {}).map(([name, value]) => ({
      name: name.toLowerCase(),
      value: compileTpl(value, [...caseAt, 'headers', name], responseScope),
    }));
    checkRefs(locatedRefs(when, [...caseAt, 'when']));
    checkRefs(locatedRefs(status, [...caseAt, 'status']));
    if (config.body !== undefined) checkRefs(locatedRefs(body, [...caseAt, 'body']));
    for (const header of headers) checkRefs(locatedRefs(header.value, [...caseAt, 'headers', header.name]));
    return { when, status, headers, body };
  });
  const response: ResponsePlan = { cases };

  for (const read of requestReads) {
    const [part, name] = read.split('.');
    if (part === 'params' && name !== undefined && !pathParams.has(name)) {
      issue(at, `request.params.${name} is read but the path ${endpoint.path} has no {${name}}`);
    }
  }

  if (compiled.length !== endpoint.flow.length || cycle) return undefined;
  const dependents: number[][] = compiled.map(() => []);
  const steps: StepPlan[] = compiled.map((entry, index) => {
    const dependencies = [...entry.refs].map((ref) => stepIndex.get(ref)!);
    for (const dependency of dependencies) dependents[dependency]!.push(index);
    const { target } = entry.plan;
    // What a step's spans say, built once: the waterfall shows what ran, where and after what.
    const traceAttributes = {
      'chorus.step': entry.plan.id,
      'chorus.step.kind': entry.plan.kind,
      'chorus.step.after': [...entry.refs],
      ...(target && { 'chorus.service': target.service, 'chorus.operation': target.operation }),
      ...(entry.plan.forEach && { 'chorus.step.forEach': true }),
    };
    return { ...entry.plan, dependencies, dependents: dependents[index]!, traceAttributes };
  });
  const flow: FlowPlan = {
    steps,
    roots: steps.filter((step) => step.dependencies.length === 0).map((step) => step.index),
  };
  for (const id of forwardOnlySteps(endpoint.flow, refsByIndex, response)) {
    const forwarding = ctx.forwarding.get(id);
    if (forwarding) forwarding.only = true;
  }
  const plan = {
    id: ctx.id,
    method: endpoint.method,
    path: endpoint.path,
    timeoutMs: durationOf(endpoint.timeout, ctx.defaultTimeoutMs),
    readsBody:
      endpoint.input?.body !== undefined ||
      [...requestReads].some((read) => read === '' || read.startsWith('body')) ||
      // Code steps read the scope in code: give them the body on methods that carry one.
      (endpoint.flow.some((step) => step.code !== undefined) && BODY_METHODS.has(endpoint.method)),
    validateInput: validator.validate,
    flow,
    response,
  };
  // Inbound policies (cors, IP lists, auth, rate limits, cache) are composed here, outermost first.
  const inbound = compileInboundPolicies(endpoint, at, ctx.id, ctx.policyDefaults, {
    logger: ctx.logger,
    baseDir: ctx.baseDir,
    issue,
    runtime: ctx.runtime,
    telemetry: policyMetrics,
  });
  return { ...plan, handle: composePolicies(inbound, createEndpointHandler(plan, ctx.shared)) };
}

function compileOnError(
  step: StepConfig,
  stepAt: ConfigPath,
  scope: ReadonlySet<string>,
  compileExpr: (
    source: string,
    at: ConfigPath,
    allowed: ReadonlySet<string>,
  ) => CompiledExpression | undefined,
): OnErrorPlan {
  const onError = step.onError ?? 'fail';
  if (onError === 'fail' || onError === 'skip') return { mode: onError };
  const expression = compileExpr(
    onError.fallback,
    [...stepAt, 'onError', 'fallback'],
    new Set([...scope, 'error']),
  );
  return expression ? { mode: 'fallback', expression } : { mode: 'fail' };
}

function splitCall(call: string): { service: string; operation: string } {
  const dot = call.indexOf('.');
  return { service: call.slice(0, dot), operation: call.slice(dot + 1) };
}

type StepBody = StepPlan['execute'];

async function compileStepBody(
  step: StepConfig,
  stepAt: ConfigPath,
  scope: ReadonlySet<string>,
  ctx: EndpointContext,
  compileTpl: (value: unknown, at: ConfigPath, allowed: ReadonlySet<string>) => CompiledTemplate,
  collect: (expr: CompiledExpression | CompiledTemplate | undefined, at: ConfigPath) => void,
): Promise<StepBody | undefined> {
  if (step.map !== undefined) {
    const template = compileTpl(step.map, [...stepAt, 'map'], scope);
    collect(template, [...stepAt, 'map']);
    return template.evaluate;
  }
  if (step.code !== undefined) return compileCodeStep(step.code, [...stepAt, 'code'], ctx);
  const { service, operation } = splitCall(step.call!);
  const input = compileTpl(step.input ?? {}, [...stepAt, 'input'], scope);
  collect(input, [...stepAt, 'input']);
  const connector = ctx.connectors.get(service);
  if (!ctx.services[service]) {
    ctx.issue(
      [...stepAt, 'call'],
      `unknown service "${service}" (services: ${Object.keys(ctx.services).join(', ') || 'none'})`,
    );
    return undefined;
  }
  const invoke = ctx.invokers.get(service);
  if (!connector || !invoke) return undefined; // the service's own issues are reported already
  const description = connector.describe().find((op) => op.name === operation);
  if (!description) {
    const known = connector.describe().map((op) => op.name);
    ctx.issue(
      [...stepAt, 'call'],
      `service "${service}" has no operation "${operation}" (operations: ${known.join(', ') || 'none'})`,
    );
    return undefined;
  }
  checkRequiredParams(step.input, description.requiredParams, [...stepAt, 'input'], ctx, service, operation);
  const stepTimeoutMs = durationOf(
    step.timeout,
    ctx.serviceTimeouts.get(service) ?? DEFAULT_SERVICE_TIMEOUT_MS,
  );
  // Set once the whole endpoint is compiled: whether this step's answer is only forwarded.
  const forwarding = { only: false };
  ctx.forwarding.set(step.id, forwarding);
  const stepId = step.id;
  // Backend-call metrics with their label children bound once, here.
  const metrics = backendCallMetrics(service, operation);
  const succeeded = (result: ConnectorResult, began: number): unknown => {
    metrics.ok((performance.now() - began) / 1000);
    return outputOf(result);
  };
  const failed = (error: unknown, began: number): never => {
    metrics.failed(
      (performance.now() - began) / 1000,
      error instanceof ChorusError ? error.code : 'CHORUS_INTERNAL',
    );
    throw error;
  };
  return (scopeValue, flowCtx: FlowContext) => {
    const remaining = flowCtx.deadline - Date.now();
    if (remaining <= 0) {
      throw new ChorusError(
        'CHORUS_DEADLINE_EXCEEDED',
        `the request deadline passed before step "${stepId}" could call ${service}`,
        {
          extras: { service, operation },
        },
      );
    }
    const deadlineBound = remaining <= stepTimeoutMs;
    const began = performance.now();
    return invoke(
      {
        operation,
        input: input.evaluate(scopeValue) as Record<string, unknown>,
        headers: flowCtx.propagate,
        signal: flowCtx.controller.signal,
        timeoutMs: deadlineBound ? remaining : stepTimeoutMs,
        deadlineBound,
        deadline: flowCtx.deadline,
        raw: forwarding.only,
      },
      flowCtx,
    ).then(
      (result) => succeeded(result, began),
      (error: unknown) => failed(error, began),
    );
  };
}

function outputOf(result: ConnectorResult): unknown {
  return result.raw === undefined ? result.output : new RawJson(result.raw);
}

/**
 * Steps whose output is read by nothing but a response body that is exactly `{{ steps.<id> }}`:
 * their answer can be forwarded undecoded.
 */
function forwardOnlySteps(
  steps: readonly StepConfig[],
  refsByIndex: readonly Set<string>[],
  response: ResponsePlan,
): Set<string> {
  const candidates = new Set<string>();
  for (const step of steps) {
    if (step.call !== undefined && step.forEach === undefined && (step.onError ?? 'fail') === 'fail') {
      candidates.add(step.id);
    }
  }
  for (const refs of refsByIndex) for (const ref of refs) candidates.delete(ref);
  for (const entry of response.cases) {
    for (const template of [entry.status, ...entry.headers.map((h) => h.value)]) {
      for (const ref of template.stepRefs) candidates.delete(ref);
    }
    if (entry.when) for (const ref of entry.when.stepRefs) candidates.delete(ref);
    const body = entry.body;
    if (!body) continue;
    const whole =
      body.expressions.length === 1 && body.expressions[0]!.path.length === 0
        ? body.expressions[0]!
        : undefined;
    const path = whole?.expression.plainPath;
    const forwarded = path !== undefined && path.length === 2 && path[0] === 'steps' ? path[1] : undefined;
    for (const ref of body.stepRefs) if (ref !== forwarded) candidates.delete(ref);
  }
  return candidates;
}

function checkRequiredParams(
  input: unknown,
  required: readonly string[],
  inputAt: ConfigPath,
  ctx: EndpointContext,
  service: string,
  operation: string,
): void {
  if (required.length === 0) return;
  const params = (input as { params?: unknown } | undefined)?.params;
  // Only a literal params map can be checked; a params expression is checked when it runs.
  if (params !== undefined && (typeof params !== 'object' || params === null)) return;
  const given = new Set(Object.keys((params as Record<string, unknown> | undefined) ?? {}));
  for (const name of required) {
    if (!given.has(name)) ctx.issue(inputAt, `${service}.${operation} needs input.params.${name}`);
  }
}

async function compileCodeStep(
  code: NonNullable<StepConfig['code']>,
  codeAt: ConfigPath,
  ctx: EndpointContext,
): Promise<StepBody | undefined> {
  let fn: CodeFunction;
  if (typeof code === 'function') fn = code;
  else {
    const file = path.resolve(ctx.baseDir, code.module);
    try {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const exported = module[code.export];
      if (typeof exported !== 'function') {
        ctx.issue([...codeAt, 'export'], `${code.module} has no exported function "${code.export}"`);
        return undefined;
      }
      fn = exported as CodeFunction;
    } catch (error) {
      ctx.issue(
        [...codeAt, 'module'],
        `cannot import ${code.module}: ${(error as Error).message.split('\n')[0]}`,
      );
      return undefined;
    }
  }
  return async (scope, flowCtx) =>
    toJsonValue(await fn(scope as Record<string, unknown>, { signal: flowCtx.controller.signal }));
}

/** Finds a dependency cycle and names it (a → b → a), or undefined. */
function findCycle(steps: readonly StepConfig[], refs: readonly string[][]): string[] | undefined {
  const index = new Map(steps.map((step, i) => [step.id, i]));
  const state = new Array<0 | 1 | 2>(steps.length).fill(0); // 0 new, 1 on the stack, 2 done
  const stack: number[] = [];
  const visit = (i: number): string[] | undefined => {
    state[i] = 1;
    stack.push(i);
    for (const ref of refs[i] ?? []) {
      const j = index.get(ref);
      if (j === undefined) continue;
      if (state[j] === 1) return [...stack.slice(stack.indexOf(j)), j].map((k) => steps[k]!.id);
      if (state[j] === 0) {
        const found = visit(j);
        if (found) return found;
      }
    }
    stack.pop();
    state[i] = 2;
    return undefined;
  };
  for (let i = 0; i < steps.length; i++) {
    if (state[i] === 0) {
      const found = visit(i);
      if (found) return found;
    }
  }
  return undefined;
}

function suggestStep(ref: string, known: ReadonlyMap<string, number>): string {
  const names = [...known.keys()];
  const close = names.find(
    (name) => name.toLowerCase() === ref.toLowerCase() || name.startsWith(ref) || ref.startsWith(name),
  );
  return close ? ` (did you mean "${close}"?)` : names.length > 0 ? ` (steps: ${names.join(', ')})` : '';
}
