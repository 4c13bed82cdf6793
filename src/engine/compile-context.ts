/**
 * What the engine's compiler receives from the wiring (src/gateway.ts builds it), and the small
 * context one endpoint is compiled in: its place, its step ids, and expression and template
 * compilation that reports problems and records what they read. The engine builds no connector
 * and no policy: it gets each service as a described, already-wrapped call, and a function that
 * wraps an endpoint's handler in its inbound policies.
 */
import type { CoreConfig, EndpointConfig, StepConfig } from '../config/schema.ts';
import type { OperationDescription } from '../contracts/connector.ts';
import type { ConfigPath, IssueReporter } from '../contracts/issues.ts';
import type { InboundHandler, PreflightHandler, UpstreamHandler } from '../contracts/policy.ts';
import { type CompiledExpression, compileExpression, ExpressionCompileError } from '../expressions/cel.ts';
import { expressionHint } from '../expressions/hints.ts';
import { type CompiledTemplate, compileTemplate, type TemplateIssue } from '../expressions/template.ts';
import { createFlowTypes } from '../types/flow-types.ts';
import type { StepPlan } from './plan.ts';

/** A service as a flow sees it: its operations, its calls (upstream policies composed), its timeout. */
export interface ServiceBinding {
  describe(): readonly OperationDescription[];
  /** One call of an operation, wrapped in the service's upstream policies. */
  readonly invoke: UpstreamHandler;
  /** The service's call timeout in ms; a step's own timeout replaces it. */
  readonly timeoutMs: number;
}

/** An endpoint's handler wrapped in its inbound policies, with the CORS preflight answer if any. */
export interface InboundStack {
  readonly handle: InboundHandler;
  readonly preflight?: PreflightHandler | undefined;
}

/** Wraps an endpoint's terminal handler in its inbound policies (problems go to the issue reporter). */
export type InboundWiring = (
  endpoint: EndpointConfig,
  at: ConfigPath,
  id: string,
  handler: InboundHandler,
) => InboundStack;

/** The body of a step: runs once (once per item under forEach). */
export type StepBody = StepPlan['execute'];

/** What a step wrapper (the step cache, invalidation) gets while the step compiles. */
export interface StepWrapContext {
  readonly endpointId: string;
  /** Where the step is in the config. */
  readonly at: ConfigPath;
  /** Compiles an expression in the step's scope; reports problems and records the steps it reads. */
  readonly compileExpression: (source: string, at: ConfigPath) => CompiledExpression | undefined;
}

/**
 * Prepares a step's wrappers while its expressions compile, before its body is built (a call
 * step's body waits until the endpoint knows whether its answer is only forwarded). Returns the
 * function that wraps the body, or undefined when the step has no wrapper.
 */
export type StepWrapping = (
  step: StepConfig,
  ctx: StepWrapContext,
) => ((body: StepBody) => StepBody) | undefined;

/** Everything the engine compiles a config with; built by the wiring (src/gateway.ts). */
export interface EngineInputs {
  readonly config: CoreConfig;
  /** Directory of the config file (code-step modules are resolved from it). */
  readonly baseDir: string;
  readonly issue: IssueReporter;
  /** Every service whose connector was built, by name. */
  readonly services: ReadonlyMap<string, ServiceBinding>;
  readonly inbound: InboundWiring;
  readonly wrapStep?: StepWrapping | undefined;
}

/** The variables every expression may read; steps add item/index, responses add warnings. */
export const BASE_VARIABLES = ['request', 'steps', 'env', 'vars'] as const;
/** A path parameter in a Chorus path: /items/{id}. */
export const PATH_PARAM = /\{([^}]+)\}/g;

/** One endpoint being compiled: its place, its steps, and compilation that records reads. */
export interface EndpointCompiler {
  readonly inputs: EngineInputs;
  readonly endpoint: EndpointConfig;
  readonly at: ConfigPath;
  /** The endpoint's operation id. */
  readonly id: string;
  /** Step id → its index in the flow (the first of duplicates). */
  readonly stepIndex: ReadonlyMap<string, number>;
  /** The parts of `request` expressions read ('' for all of it, 'body…', 'params.id'). */
  readonly requestReads: ReadonlySet<string>;
  readonly issue: IssueReporter;
  /** Compiles an expression; on error reports it at its place and returns undefined. */
  expression(source: string, at: ConfigPath, allowed: ReadonlySet<string>): CompiledExpression | undefined;
  /** Compiles a template (any JSON value with {{ }} parts), reporting each problem at its place. */
  template(value: unknown, at: ConfigPath, allowed: ReadonlySet<string>): CompiledTemplate;
}

/**
 * Expressions and templates compiled once per gateway: equal sources in the same scope share one
 * compiled, immutable object instead of each endpoint holding its own copy (with its read sets).
 * A config of 10,000 endpoints that all answer `{{ steps.item }}` compiles it once.
 */
export interface CompileCache {
  readonly expressions: Map<string, CompiledExpression>;
  readonly templates: Map<string, CompiledTemplate>;
}

/** An empty cache, for one compilation of a gateway (a reload starts a new one). */
export function createCompileCache(): CompileCache {
  return { expressions: new Map(), templates: new Map() };
}

/** The cache key of a source in a scope; undefined when the value is not plain JSON (never shared). */
function cacheKey(value: unknown, allowed: ReadonlySet<string>): string | undefined {
  let plain = true;
  const text =
    typeof value === 'string'
      ? value
      : JSON.stringify(value, (_key, child: unknown) => {
          const type = typeof child;
          if (type === 'function' || type === 'undefined' || type === 'bigint' || type === 'symbol')
            plain = false;
          return child;
        });
  return plain && text !== undefined
    ? `${typeof value}\u0000${[...allowed].join(',')}\u0000${text}`
    : undefined;
}

/** The compiler of one endpoint; `envReads` collects the env names read, gateway-wide. */
export function createEndpointCompiler(
  inputs: EngineInputs,
  endpoint: EndpointConfig,
  at: ConfigPath,
  id: string,
  envReads: Set<string>,
  cache: CompileCache = createCompileCache(),
): EndpointCompiler {
  const { issue } = inputs;
  const requestReads = new Set<string>();
  // Every expression is also checked against the types in its scope (src/types/).
  const types = createFlowTypes(inputs, endpoint, at);
  return {
    inputs,
    endpoint,
    at,
    id,
    stepIndex: indexSteps(endpoint, at, issue),
    requestReads,
    issue,
    expression(source, fieldAt, allowed) {
      try {
        const key = cacheKey(source, allowed);
        const expr =
          (key === undefined ? undefined : cache.expressions.get(key)) ?? compileExpression(source, allowed);
        if (key !== undefined) cache.expressions.set(key, expr);
        for (const read of expr.requestReads) requestReads.add(read);
        for (const name of expr.envReads) envReads.add(name);
        types.checkExpression(expr, fieldAt, issue);
        return expr;
      } catch (error) {
        const offset = error instanceof ExpressionCompileError ? error.offset : undefined;
        const message = (error as Error).message;
        const hint = expressionHint(source, message);
        issue(
          fieldAt,
          `expression "${source}": ${message}${hint === undefined ? '' : ` (${hint})`}`,
          offset === undefined ? {} : { offset },
        );
        return undefined;
      }
    },
    template(value, fieldAt, allowed) {
      const key = cacheKey(value, allowed);
      const cached = key === undefined ? undefined : cache.templates.get(key);
      if (cached !== undefined) {
        for (const read of cached.requestReads) requestReads.add(read);
        for (const name of cached.envReads) envReads.add(name);
        types.checkTemplate(cached, fieldAt, issue);
        return cached;
      }
      const templateIssues: TemplateIssue[] = [];
      const template = compileTemplate(value, allowed, templateIssues);
      // Only a template without problems is shared: one with problems reports them at each place.
      if (key !== undefined && templateIssues.length === 0) cache.templates.set(key, template);
      for (const found of templateIssues) {
        issue(
          [...fieldAt, ...found.path],
          withHint(found.message),
          found.offset === undefined ? {} : { offset: found.offset },
        );
      }
      for (const read of template.requestReads) requestReads.add(read);
      for (const name of template.envReads) envReads.add(name);
      types.checkTemplate(template, fieldAt, issue);
      return template;
    },
  };
}

/** Step id → index; a duplicate id is reported and keeps the first. */
function indexSteps(endpoint: EndpointConfig, at: ConfigPath, issue: IssueReporter): Map<string, number> {
  const stepIndex = new Map<string, number>();
  for (const [index, step] of endpoint.flow.entries()) {
    if (stepIndex.has(step.id)) issue([...at, 'flow', index, 'id'], `duplicate step id "${step.id}"`);
    else stepIndex.set(step.id, index);
  }
  return stepIndex;
}

/** A template issue's message with the hint for its expression's mistake, when it is a known one. */
function withHint(message: string): string {
  const parsed = /^expression "(.*)": (.*)$/s.exec(message);
  const hint = parsed === null ? undefined : expressionHint(parsed[1]!, parsed[2]!);
  return hint === undefined ? message : `${message} (${hint})`;
}
