/**
 * The flow runner. Each step starts the moment its own dependencies are done (no level barriers),
 * so independent calls run in parallel without anyone writing "parallel". A fatal failure aborts
 * the request's controller, which cancels every call still in flight.
 */
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ChorusError, type ErrorCode } from '../errors/catalogue.ts';
import type { Scope } from '../expressions/cel.ts';
import { spanTime } from '../observability/span-clock.ts';
import { runInSpan } from './call-span.ts';
import type { FlowContext, FlowPlan, FlowScope, FlowWarning, StepPlan } from './plan.ts';

/** Runs every step of a flow; step outputs land in scope.steps. Rejects with the first fatal error. */
export function runFlow(flow: FlowPlan, scope: FlowScope, ctx: FlowContext): Promise<void> {
  const steps = flow.steps;
  if (steps.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const waiting = steps.map((step) => step.dependencies.length);
    // 1 while a step runs: what a deadline names as pending.
    const running = new Uint8Array(steps.length);
    let remaining = steps.length;
    let failed = false;
    const signal = ctx.controller.signal;
    // The request's deadline fires: answer at once, naming the steps it caught still running.
    const onAbort = (): void => {
      if (failed || !isDeadline(signal.reason)) return;
      failed = true;
      reject(withPending(signal.reason as ChorusError, steps, running, undefined));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Per-step timings are logged at debug level; decided once per run.
    const debug = ctx.logger.isLevelEnabled('debug');
    const start = (index: number): void => {
      const step = steps[index]!;
      const began = debug ? performance.now() : 0;
      running[index] = 1;
      // A step without when, forEach or onError runs its body directly: two async layers fewer.
      const pending =
        step.when === undefined && step.forEach === undefined && step.onError.mode === 'fail'
          ? runPlain(step, scope, ctx)
          : runStep(step, scope, ctx);
      pending.then(
        (output) => {
          running[index] = 0;
          if (debug) logStep(ctx, step, began, undefined);
          if (failed) return;
          scope.steps[step.id] = output;
          remaining--;
          if (remaining === 0) {
            signal.removeEventListener('abort', onAbort);
            resolve();
            return;
          }
          for (const dependent of step.dependents) {
            waiting[dependent]!--;
            if (waiting[dependent] === 0) start(dependent);
          }
        },
        (cause: unknown) => {
          if (debug) logStep(ctx, step, began, cause);
          if (failed) return;
          failed = true;
          signal.removeEventListener('abort', onAbort);
          let error = stepError(step, cause);
          if (isDeadline(error)) error = withPending(error, steps, running, step);
          running[index] = 0;
          // Cancel the siblings still in flight: their answers can no longer be used.
          if (!signal.aborted) ctx.controller.abort(error);
          reject(error);
        },
      );
    };
    for (const root of flow.roots) start(root);
  });
}

function isDeadline(reason: unknown): boolean {
  return reason instanceof ChorusError && reason.code === 'CHORUS_DEADLINE_EXCEEDED';
}

/** One step a deadline caught running. */
interface PendingStep {
  step: string;
  service?: string;
  operation?: string;
}

/**
 * The deadline error naming the steps still running when it fired (`pending`); its `step`,
 * `service` and `operation` are those of the step that failed, else of the first one pending.
 */
function withPending(
  error: ChorusError,
  steps: readonly StepPlan[],
  running: Uint8Array,
  failedStep: StepPlan | undefined,
): ChorusError {
  const pending: PendingStep[] = [];
  for (let index = 0; index < steps.length; index++) {
    if (running[index] !== 1) continue;
    const step = steps[index]!;
    pending.push(
      step.target === undefined
        ? { step: step.id }
        : { step: step.id, service: step.target.service, operation: step.target.operation },
    );
  }
  if (pending.length === 0) return error;
  const first = failedStep === undefined ? pending[0]! : undefined;
  const named = pending
    .slice(0, 5)
    .map((p) => (p.service === undefined ? `"${p.step}"` : `"${p.step}" (${p.service}.${p.operation})`));
  const more = pending.length > 5 ? ` and ${pending.length - 5} more` : '';
  // The same words whichever fired first, the request's deadline or a call's deadline-bound timer.
  const message = `${error.message}; still pending: step ${named.join(', ')}${more}`;
  return new ChorusError(error.code, message, {
    cause: error.cause,
    retryable: error.retryable,
    extras: { ...error.extras, ...first, pending },
    data: error.data,
    ...(error.headers === undefined ? {} : { headers: error.headers }),
  });
}

function runPlain(step: StepPlan, scope: FlowScope, ctx: FlowContext): Promise<unknown> {
  try {
    return Promise.resolve(execute(step, scope, ctx));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Runs a step's body once; with tracing on, call and code steps run inside their own span. */
function execute(step: StepPlan, scope: Scope, ctx: FlowContext): Promise<unknown> | unknown {
  if (ctx.tracer === undefined || step.kind === 'map' || step.batched) return step.execute(scope, ctx);
  return executeTraced(step, scope, ctx);
}

async function executeTraced(step: StepPlan, scope: Scope, ctx: FlowContext): Promise<unknown> {
  const parent = ctx.span === undefined ? undefined : trace.setSpan(ROOT_CONTEXT, ctx.span);
  const span = ctx.tracer!.startSpan(
    step.target === undefined ? `step ${step.id}` : `${step.target.service}.${step.target.operation}`,
    {
      kind: step.kind === 'call' ? SpanKind.CLIENT : SpanKind.INTERNAL,
      attributes: step.traceAttributes,
      startTime: spanTime(),
    },
    parent,
  );
  if (step.forEach !== undefined && typeof scope.index === 'number')
    span.setAttribute('chorus.item', scope.index);
  return runInSpan(span, ctx, 'CHORUS_CODE_STEP_FAILED', (traced) => step.execute(scope, traced));
}

function logStep(ctx: FlowContext, step: StepPlan, began: number, error: unknown): void {
  const ms = Math.round((performance.now() - began) * 100) / 100;
  const fields: Record<string, unknown> = { requestId: ctx.requestId, step: step.id, ms };
  if (step.target !== undefined) fields.call = `${step.target.service}.${step.target.operation}`;
  if (error !== undefined) fields.code = error instanceof ChorusError ? error.code : 'error';
  ctx.logger.debug(fields, 'step');
}

async function runStep(step: StepPlan, scope: FlowScope, ctx: FlowContext): Promise<unknown> {
  let list: unknown;
  try {
    if (step.when !== undefined) {
      const condition = evaluateGuarded(step, 'when', () => step.when!.evaluate(scope));
      if (condition !== true) {
        ctx.span?.addEvent('step.skipped', { 'chorus.step': step.id, reason: 'when' });
        return null;
      }
    }
    if (step.forEach === undefined) return await runOnce(step, scope, ctx);
    list = evaluateGuarded(step, 'forEach', () => step.forEach!.evaluate(scope));
    if (!Array.isArray(list)) {
      throw new ChorusError(
        'CHORUS_EXPRESSION_FAILED',
        `step "${step.id}": forEach gave ${typeOf(list)}, not a list`,
        {
          extras: { step: step.id },
        },
      );
    }
  } catch (cause) {
    // onError covers the whole step: its condition and its list as much as its body.
    return recover(step, scope, ctx, cause);
  }
  return runForEach(step, scope, ctx, list);
}

/** Runs the step once per item, at most `concurrency` at a time, keeping the items' order. */
function runForEach(
  step: StepPlan,
  scope: FlowScope,
  ctx: FlowContext,
  list: readonly unknown[],
): Promise<unknown[]> {
  const outputs = new Array<unknown>(list.length);
  if (list.length === 0) return Promise.resolve(outputs);
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let failed = false;
    const launch = (): void => {
      const index = next++;
      const itemScope: Scope = { ...scope, item: list[index], index };
      runOnce(step, itemScope, ctx).then(
        (output) => {
          if (failed) return;
          outputs[index] = output;
          done++;
          if (done === list.length) resolve(outputs);
          else if (next < list.length) launch();
        },
        (error: unknown) => {
          if (failed) return;
          failed = true;
          reject(error);
        },
      );
    };
    const initial = Math.min(step.concurrency, list.length);
    for (let i = 0; i < initial; i++) launch();
  });
}

async function runOnce(step: StepPlan, scope: Scope, ctx: FlowContext): Promise<unknown> {
  try {
    return await execute(step, scope, ctx);
  } catch (cause) {
    if (step.forEach === undefined) throw cause; // runStep applies onError
    return recover(step, scope, ctx, cause); // under forEach, onError applies per item
  }
}

/** Applies the step's onError to a failure: rethrow (fail), null (skip) or the fallback's value. */
function recover(step: StepPlan, scope: Scope, ctx: FlowContext, cause: unknown): unknown {
  const error = stepError(step, cause);
  // A cancelled request is not the step's failure: never hide it behind skip or fallback.
  if (step.onError.mode === 'fail' || ctx.controller.signal.aborted) throw error;
  const warnings = (scope as FlowScope).warnings;
  const warning: FlowWarning = { step: step.id, code: error.code, message: error.message };
  // Under forEach, which item failed: its index, and the key the config names it by.
  if (step.forEach !== undefined && typeof scope.index === 'number') {
    warning.index = scope.index;
    if (step.itemKey !== undefined) {
      try {
        warning.key = step.itemKey.evaluate(scope);
      } catch {
        // An item whose key cannot be read is still named by its index.
      }
    }
  }
  warnings.push(warning);
  ctx.span?.addEvent(`step.${step.onError.mode}`, {
    'chorus.step': step.id,
    'chorus.error.code': error.code,
  });
  if (step.onError.mode === 'skip') return null;
  const fallback = step.onError.expression;
  const errorData = {
    code: error.code,
    message: error.message,
    status: (error.data as { status?: number } | undefined)?.status ?? error.status,
    body: (error.data as { body?: unknown } | undefined)?.body ?? null,
  };
  return evaluateGuarded(step, 'onError.fallback', () => fallback.evaluate({ ...scope, error: errorData }));
}

function stepError(step: StepPlan, cause: unknown): ChorusError {
  if (cause instanceof ChorusError) {
    if ('step' in cause.extras) return cause;
    return new ChorusError(cause.code, cause.message, {
      cause: cause.cause,
      retryable: cause.retryable,
      extras: { ...cause.extras, step: step.id },
      data: cause.data,
      ...(cause.headers === undefined ? {} : { headers: cause.headers }),
    });
  }
  const code: ErrorCode = step.kind === 'code' ? 'CHORUS_CODE_STEP_FAILED' : 'CHORUS_EXPRESSION_FAILED';
  const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new ChorusError(code, `step "${step.id}" failed: ${reason}`, { cause, extras: { step: step.id } });
}

function evaluateGuarded<T>(step: StepPlan, field: string, evaluate: () => T): T {
  try {
    return evaluate();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new ChorusError('CHORUS_EXPRESSION_FAILED', `step "${step.id}" ${field}: ${reason}`, {
      cause,
      extras: { step: step.id },
    });
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}
