/**
 * A flow's steps, compiled: `when`, `forEach`, `onError`, and the body (`call`, `map` or
 * `code`), each in its scope, recording the steps it reads. A call step is compiled up to a
 * spec here; its body is built once the endpoint knows whether its answer is only forwarded.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeFunction, StepConfig } from '../config/schema.ts';
import type { ConfigPath } from '../contracts/issues.ts';
import { type CompiledExpression, toJsonValue } from '../expressions/cel.ts';
import { type BatchPlan, compileBatch, createBatchStep } from './batch.ts';
import { type CallStepSpec, createCallStep } from './call-step.ts';
import { BASE_VARIABLES, type EndpointCompiler, type StepBody } from './compile-context.ts';
import { addAfterRefs, type RefCollector, refCollector, type UnlinkedStep } from './graph.ts';
import { compileLoop, createLoopStep, type LoopPlan } from './loop.ts';
import type { OnErrorPlan } from './plan.ts';

const DEFAULT_FOREACH_CONCURRENCY = 10;

/** A step compiled up to its body; `body` is undefined when it could not be compiled. */
export interface CompiledStep {
  readonly step: StepConfig;
  readonly index: number;
  /** The ids of the steps it reads or comes after. */
  readonly refs: ReadonlySet<string>;
  readonly when: CompiledExpression | undefined;
  readonly forEach: CompiledExpression | undefined;
  readonly itemKey: CompiledExpression | undefined;
  readonly onError: OnErrorPlan;
  /** A map or code step's body, or a call step's spec. */
  readonly body: StepBody | CallStepSpec | undefined;
  /** Wraps the built body (step cache, invalidation), when the step has wrappers. */
  readonly wrap: ((body: StepBody) => StepBody) | undefined;
  /** A repeating call step's `repeat`, compiled. */
  readonly loop: LoopPlan | undefined;
  /** A batch call step's `batch`, compiled. */
  readonly batch: BatchPlan | undefined;
}

/** Compiles one step up to its body. */
export async function compileStep(
  c: EndpointCompiler,
  step: StepConfig,
  index: number,
): Promise<CompiledStep> {
  const stepAt: ConfigPath = [...c.at, 'flow', index];
  const base = new Set<string>(BASE_VARIABLES);
  const refs = new Set<string>();
  const collect = refCollector(c, step, refs);
  addAfterRefs(c, step, stepAt, refs);
  const when = step.when === undefined ? undefined : c.expression(step.when, [...stepAt, 'when'], base);
  collect(when, [...stepAt, 'when']);
  const forEach =
    step.forEach === undefined ? undefined : c.expression(step.forEach, [...stepAt, 'forEach'], base);
  collect(forEach, [...stepAt, 'forEach']);
  const bodyScope = step.forEach === undefined ? base : new Set([...base, 'item', 'index']);
  const itemKey =
    step.itemKey === undefined ? undefined : c.expression(step.itemKey, [...stepAt, 'itemKey'], bodyScope);
  collect(itemKey, [...stepAt, 'itemKey']);
  const onError = compileOnError(c, step, stepAt, bodyScope);
  if (onError.mode === 'fallback') collect(onError.expression, [...stepAt, 'onError', 'fallback']);
  const loop =
    step.repeat === undefined
      ? undefined
      : compileLoop(c, step.repeat, [...stepAt, 'repeat'], bodyScope, collect);
  const batch =
    step.batch === undefined
      ? undefined
      : compileBatch(c, step, [...stepAt, 'batch'], bodyScope, base, collect);
  // A repeating step's input reads the round (page.round, page.state); a batch step's input is
  // built once per batch, from its keys (batch.keys), not per item.
  const inputScope =
    loop !== undefined
      ? new Set([...bodyScope, 'page'])
      : step.batch !== undefined
        ? new Set([...base, 'batch'])
        : bodyScope;
  const body = await compileStepBody(c, step, stepAt, bodyScope, collect, inputScope);
  const wrap =
    body === undefined
      ? undefined
      : c.inputs.wrapStep?.(step, {
          endpointId: c.id,
          at: stepAt,
          compileExpression: (source, fieldAt) => {
            const expr = c.expression(source, fieldAt, bodyScope);
            collect(expr, fieldAt);
            return expr;
          },
        });
  // A batch step whose batch did not compile has no body (its problems are reported).
  return {
    step,
    index,
    refs,
    when,
    forEach,
    onError,
    itemKey,
    body: step.batch !== undefined && batch === undefined ? undefined : body,
    wrap,
    loop,
    batch,
  };
}

/**
 * The operations an endpoint may call more than once in a request (by two steps, or under
 * forEach): only their identical calls are looked for.
 */
export function repeatedCallsOf(steps: readonly StepConfig[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const step of steps) {
    if (step.call === undefined || step.repeat !== undefined || step.batch !== undefined) continue;
    if (seen.has(step.call) || step.forEach !== undefined) repeated.add(step.call);
    seen.add(step.call);
  }
  return repeated;
}

/** Builds a compiled step's body (a call step's with `raw` when its answer is only forwarded). */
export function finishStep(
  compiled: CompiledStep,
  forwardOnly: ReadonlySet<string>,
  repeatedCalls: ReadonlySet<string> = new Set(),
): UnlinkedStep {
  const { step, body, wrap } = compiled;
  const built =
    typeof body === 'function'
      ? body
      : compiled.loop !== undefined
        ? createLoopStep(body!, compiled.loop)
        : compiled.batch !== undefined
          ? createBatchStep(body!, compiled.batch)
          : createCallStep(body!, forwardOnly.has(step.id), {
              // Only where the same operation may be called twice in a request: no cost elsewhere.
              perRequest: body!.idempotent && repeatedCalls.has(step.call!),
              singleFlight: step.singleFlight === true && body!.idempotent,
            });
  return {
    id: step.id,
    index: compiled.index,
    kind: step.call !== undefined ? 'call' : step.map !== undefined ? 'map' : 'code',
    when: compiled.when,
    forEach: compiled.forEach,
    itemKey: compiled.itemKey,
    batched: compiled.batch !== undefined,
    // A batch step's runs only ask for their keys: all of them at once, so the keys go out in
    // the fewest batches (its concurrency caps the batch calls instead).
    concurrency:
      compiled.batch !== undefined
        ? Number.MAX_SAFE_INTEGER
        : (step.concurrency ?? DEFAULT_FOREACH_CONCURRENCY),
    onError: compiled.onError,
    target: step.call === undefined ? undefined : splitCall(step.call),
    execute: wrap === undefined ? built : wrap(built),
  };
}

function compileOnError(
  c: EndpointCompiler,
  step: StepConfig,
  stepAt: ConfigPath,
  scope: ReadonlySet<string>,
): OnErrorPlan {
  const onError = step.onError ?? 'fail';
  if (onError === 'fail' || onError === 'skip') return { mode: onError };
  const expression = c.expression(
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

async function compileStepBody(
  c: EndpointCompiler,
  step: StepConfig,
  stepAt: ConfigPath,
  scope: ReadonlySet<string>,
  collect: RefCollector,
  inputScope: ReadonlySet<string>,
): Promise<StepBody | CallStepSpec | undefined> {
  if (step.map !== undefined) {
    const template = c.template(step.map, [...stepAt, 'map'], scope);
    collect(template, [...stepAt, 'map']);
    return template.evaluate;
  }
  if (step.code !== undefined) return compileCodeStep(c, step.code, [...stepAt, 'code']);
  return compileCallSpec(c, step, stepAt, inputScope, collect);
}

function compileCallSpec(
  c: EndpointCompiler,
  step: StepConfig,
  stepAt: ConfigPath,
  scope: ReadonlySet<string>,
  collect: RefCollector,
): CallStepSpec | undefined {
  const { service, operation } = splitCall(step.call!);
  const input = c.template(step.input ?? {}, [...stepAt, 'input'], scope);
  collect(input, [...stepAt, 'input']);
  const declared = c.inputs.config.services;
  if (!declared[service]) {
    c.issue(
      [...stepAt, 'call'],
      `unknown service "${service}" (services: ${Object.keys(declared).join(', ') || 'none'})`,
    );
    return undefined;
  }
  const binding = c.inputs.services.get(service);
  if (!binding) return undefined; // the service's own issues are reported already
  const description = binding.describe().find((op) => op.name === operation);
  if (!description) {
    const known = binding.describe().map((op) => op.name);
    c.issue(
      [...stepAt, 'call'],
      `service "${service}" has no operation "${operation}" (operations: ${known.join(', ') || 'none'})`,
    );
    return undefined;
  }
  checkRequiredParams(c, step.input, description.requiredParams, [...stepAt, 'input'], step.call!);
  if (step.singleFlight === true && !description.idempotent) {
    c.issue(
      [...stepAt, 'singleFlight'],
      `${step.call} is not idempotent: concurrent requests cannot share its calls`,
    );
  }
  return {
    stepId: step.id,
    service,
    operation,
    input,
    timeoutMs: step.timeout ?? binding.timeoutMs,
    invoke: binding.invoke,
    idempotent: description.idempotent,
  };
}

function checkRequiredParams(
  c: EndpointCompiler,
  input: unknown,
  required: readonly string[],
  inputAt: ConfigPath,
  call: string,
): void {
  if (required.length === 0) return;
  const params = (input as { params?: unknown } | undefined)?.params;
  // Only a literal params map can be checked; a params expression is checked when it runs.
  if (params !== undefined && (typeof params !== 'object' || params === null)) return;
  const given = new Set(Object.keys((params as Record<string, unknown> | undefined) ?? {}));
  for (const name of required) {
    if (!given.has(name)) c.issue(inputAt, `${call} needs input.params.${name}`);
  }
}

async function compileCodeStep(
  c: EndpointCompiler,
  code: NonNullable<StepConfig['code']>,
  codeAt: ConfigPath,
): Promise<StepBody | undefined> {
  let fn: CodeFunction;
  if (typeof code === 'function') fn = code;
  else {
    const file = path.resolve(c.inputs.baseDir, code.module);
    try {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const exported = module[code.export];
      if (typeof exported !== 'function') {
        c.issue([...codeAt, 'export'], `${code.module} has no exported function "${code.export}"`);
        return undefined;
      }
      fn = exported as CodeFunction;
    } catch (error) {
      c.issue(
        [...codeAt, 'module'],
        `cannot import ${code.module}: ${(error as Error).message.split('\n')[0]}`,
      );
      return undefined;
    }
  }
  return async (scope, flowCtx) =>
    toJsonValue(await fn(scope as Record<string, unknown>, { signal: flowCtx.controller.signal }));
}
