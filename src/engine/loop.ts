/**
 * Repeating call steps (`repeat`): pagination by cursor, next link, page or offset, and any other
 * "call again until the backend is done". Each round's call input reads `page.round` and
 * `page.state`; after a round, `next` gives the next state (null: done) and `while` may stop it;
 * or, when the first answer says how many rounds there are (`rounds`), the rest run in parallel
 * under a cap. Every loop is bounded (`maxRounds`, `maxItems`), listens to the request's signal
 * and deadline between and during rounds, and gives each round its own trace span.
 */
import type { StepConfig } from '../config/schema.ts';
import type { ConnectorResult } from '../contracts/connector.ts';
import type { ConfigPath } from '../contracts/issues.ts';
import { ChorusError } from '../errors/catalogue.ts';
import type { CompiledExpression, Scope } from '../expressions/cel.ts';
import type { CompiledTemplate } from '../expressions/template.ts';
import { callInSpan } from './call-span.ts';
import { type CallStepSpec, createServiceCall } from './call-step.ts';
import type { EndpointCompiler, StepBody } from './compile-context.ts';
import type { RefCollector } from './graph.ts';
import type { FlowContext, FlowScope } from './plan.ts';

const DEFAULT_ROUND_CONCURRENCY = 4;

/** A `repeat` block, compiled. */
export interface LoopPlan {
  readonly maxRounds: number;
  readonly maxItems: number | undefined;
  readonly state: CompiledTemplate | undefined;
  readonly items: CompiledExpression | undefined;
  readonly while: CompiledExpression | undefined;
  readonly next: CompiledExpression | undefined;
  readonly rounds: CompiledExpression | undefined;
  readonly concurrency: number;
  readonly reduce: CompiledExpression | undefined;
  readonly onLimit: 'fail' | 'partial';
}

/** What `page` holds after a round (in items, while, next, rounds). */
interface RoundView {
  round: number;
  state: unknown;
  output: unknown;
  headers: Record<string, string>;
  status: number | null;
}

/** Compiles a step's `repeat`; its expressions are checked here, at load, at their file:line:col. */
export function compileLoop(
  c: EndpointCompiler,
  repeat: NonNullable<StepConfig['repeat']>,
  at: ConfigPath,
  scope: ReadonlySet<string>,
  collect: RefCollector,
): LoopPlan {
  const withLoop = new Set([...scope, 'page']);
  const expression = (
    field: 'items' | 'while' | 'next' | 'rounds' | 'reduce',
  ): CompiledExpression | undefined => {
    const source = repeat[field];
    if (source === undefined) return undefined;
    const compiled = c.expression(source, [...at, field], withLoop);
    collect(compiled, [...at, field]);
    return compiled;
  };
  let state: CompiledTemplate | undefined;
  if (repeat.state !== undefined) {
    state = c.template(repeat.state, [...at, 'state'], scope);
    collect(state, [...at, 'state']);
  }
  return {
    maxRounds: repeat.maxRounds,
    maxItems: repeat.maxItems,
    state,
    items: expression('items'),
    while: expression('while'),
    next: expression('next'),
    rounds: expression('rounds'),
    concurrency: repeat.concurrency ?? DEFAULT_ROUND_CONCURRENCY,
    reduce: expression('reduce'),
    onLimit: repeat.onLimit,
  };
}

/** Builds a repeating call step's body. */
export function createLoopStep(spec: CallStepSpec, loop: LoopPlan): StepBody {
  const call = createServiceCall(spec, false);
  const { stepId, service, operation } = spec;
  const fail = (field: string, cause: unknown): ChorusError => {
    if (cause instanceof ChorusError) return cause;
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    return new ChorusError('CHORUS_EXPRESSION_FAILED', `step "${stepId}" repeat.${field}: ${reason}`, {
      cause,
      extras: { step: stepId },
    });
  };
  const read = (field: string, expr: CompiledExpression, scope: Scope, view: unknown): unknown => {
    try {
      return expr.evaluate({ ...scope, page: view } as Scope);
    } catch (cause) {
      throw fail(field, cause);
    }
  };

  /** One round: its call (in its own span when tracing), then what `loop` holds after it. */
  const runRound = async (
    scope: Scope,
    ctx: FlowContext,
    round: number,
    state: unknown,
  ): Promise<RoundView> => {
    const signal = ctx.controller.signal;
    if (signal.aborted) throw signal.reason;
    const input = spec.input.evaluate({ ...scope, page: { round, state } } as Scope) as Record<
      string,
      unknown
    >;
    const result = await (ctx.tracer === undefined
      ? call(input, ctx)
      : callInSpan(call, input, ctx, `${service}.${operation}`, {
          'chorus.step': stepId,
          'chorus.round': round,
        }));
    return { round, state, output: result.output, headers: headersOf(result), status: result.status ?? null };
  };
  const itemsOf = (scope: Scope, view: RoundView): unknown[] => {
    const items = loop.items === undefined ? view.output : read('items', loop.items, scope, view);
    if (Array.isArray(items)) return items;
    if (items === null || items === undefined) return [];
    throw fail(
      'items',
      new Error(
        `round ${view.round} gave ${typeof items === 'object' ? 'a map' : `a ${typeof items}`}, not a list${loop.items === undefined ? ' (set repeat.items to the list in the answer)' : ''}`,
      ),
    );
  };
  /** The step's output; a hit bound fails the step, or (onLimit: partial) adds a warning. */
  const finish = (scope: Scope, items: unknown[], outputs: unknown[], limit: string | undefined): unknown => {
    if (limit !== undefined) {
      const message = `step "${stepId}" stopped at ${limit} before ${service}.${operation} said it was done`;
      if (loop.onLimit === 'fail') {
        throw new ChorusError('CHORUS_LOOP_LIMIT', message, {
          extras: { step: stepId, service, operation, rounds: outputs.length, items: items.length },
        });
      }
      (scope as FlowScope).warnings.push({ step: stepId, code: 'CHORUS_LOOP_LIMIT', message });
    }
    if (loop.reduce === undefined) return items;
    return read('reduce', loop.reduce, scope, { items, outputs, rounds: outputs.length });
  };
  const maxItems = loop.maxItems ?? Number.POSITIVE_INFINITY;

  const sequential = async (scope: Scope, ctx: FlowContext, first: RoundView): Promise<unknown> => {
    const items: unknown[] = [];
    const outputs: unknown[] = [];
    let view = first;
    for (;;) {
      outputs.push(view.output);
      for (const item of itemsOf(scope, view)) items.push(item);
      const more =
        (loop.while === undefined || read('while', loop.while, scope, view) === true) &&
        loop.next !== undefined;
      const state = more ? read('next', loop.next!, scope, view) : null;
      const going = more && state !== null && state !== undefined;
      if (items.length > maxItems || (going && items.length >= maxItems)) {
        return finish(scope, items.slice(0, maxItems), outputs, `maxItems (${maxItems})`);
      }
      if (!going) return finish(scope, items, outputs, undefined);
      if (view.round + 1 >= loop.maxRounds) {
        return finish(scope, items, outputs, `maxRounds (${loop.maxRounds})`);
      }
      view = await runRound(scope, ctx, view.round + 1, state);
    }
  };

  const parallel = async (scope: Scope, ctx: FlowContext, first: RoundView): Promise<unknown> => {
    const total = read('rounds', loop.rounds!, scope, first);
    const count = typeof total === 'number' ? total : typeof total === 'bigint' ? Number(total) : Number.NaN;
    if (!Number.isFinite(count) || count < 0) {
      throw fail('rounds', new Error(`gave ${JSON.stringify(total)}, not a number of rounds`));
    }
    const wanted = Math.ceil(count);
    const run = Math.max(1, Math.min(wanted, loop.maxRounds));
    const views: RoundView[] = new Array(run);
    views[0] = first;
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next < run) {
        const round = next++;
        views[round] = await runRound(scope, ctx, round, first.state);
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.min(loop.concurrency, run - 1); i++) workers.push(worker());
    await Promise.all(workers);
    const items: unknown[] = [];
    for (const view of views) for (const item of itemsOf(scope, view)) items.push(item);
    const outputs = views.map((view) => view.output);
    if (items.length > maxItems)
      return finish(scope, items.slice(0, maxItems), outputs, `maxItems (${maxItems})`);
    if (wanted > loop.maxRounds) return finish(scope, items, outputs, `maxRounds (${loop.maxRounds})`);
    return finish(scope, items, outputs, undefined);
  };

  return async (scope, ctx) => {
    let state: unknown;
    try {
      state = loop.state === undefined ? {} : loop.state.evaluate(scope);
    } catch (cause) {
      throw fail('state', cause);
    }
    const first = await runRound(scope, ctx, 0, state);
    return loop.rounds === undefined ? sequential(scope, ctx, first) : parallel(scope, ctx, first);
  };
}

/** A round's response headers with lower-case names, repeated ones joined (as HTTP allows). */
function headersOf(result: ConnectorResult): Record<string, string> {
  const headers: Record<string, string> = {};
  if (result.headers === undefined) return headers;
  for (const [name, value] of Object.entries(result.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
