/**
 * Keyed batching (`batch`): a call step whose operation accepts many keys asks for its key, and
 * the keys asked for in the same turn of the event loop — by the items of a forEach, or by
 * several steps of one request with the same `call` and `batch` — go out as one call per batch
 * of up to `size` keys. Each run gets the result whose key is its own (matched by key, never by
 * position: a backend that reorders, omits or repeats results is handled); a key without a result
 * is a per-run CHORUS_BATCH_KEY_MISSING, which the step's onError applies to per item. A key
 * asked for twice in one request is asked once (DataLoader's per-request cache).
 *
 * DataLoader (graphql's own batching library) does the collecting, splitting and caching; the
 * matching by key and the per-request lifetime are ours.
 */
import DataLoader from 'dataloader';
import type { StepConfig } from '../config/schema.ts';
import type { ConfigPath } from '../contracts/issues.ts';
import { ChorusError } from '../errors/catalogue.ts';
import type { CompiledExpression, Scope } from '../expressions/cel.ts';
import { callInSpan } from './call-span.ts';
import { type CallStepSpec, createServiceCall } from './call-step.ts';
import type { EndpointCompiler, StepBody } from './compile-context.ts';
import type { RefCollector } from './graph.ts';
import type { FlowContext } from './plan.ts';

/** A `batch` block, compiled. */
export interface BatchPlan {
  /** Steps of an endpoint with the same group share one loader per request. */
  readonly group: string;
  readonly size: number;
  /** Most batch calls in flight at once (the step's concurrency). */
  readonly concurrency: number;
  readonly key: CompiledExpression;
  readonly results: CompiledExpression;
  readonly resultKey: CompiledExpression;
}

/** Compiles a step's `batch`; its expressions are checked at load, at their file:line:col. */
export function compileBatch(
  c: EndpointCompiler,
  step: StepConfig,
  at: ConfigPath,
  bodyScope: ReadonlySet<string>,
  baseScope: ReadonlySet<string>,
  collect: RefCollector,
): BatchPlan | undefined {
  const batch = step.batch!;
  const compile = (
    source: string,
    field: string,
    scope: ReadonlySet<string>,
  ): CompiledExpression | undefined => {
    const compiled = c.expression(source, [...at, field], scope);
    collect(compiled, [...at, field]);
    return compiled;
  };
  const key = compile(batch.key, 'key', bodyScope);
  const results = compile(batch.results, 'results', new Set([...baseScope, 'batch']));
  const resultKey = compile(batch.resultKey, 'resultKey', new Set([...baseScope, 'result']));
  if (key === undefined || results === undefined || resultKey === undefined) return undefined;
  // What makes two steps' batches the same: the call and everything but the key.
  const group = JSON.stringify([step.call, step.input ?? {}, batch.size, batch.results, batch.resultKey]);
  return {
    group,
    size: batch.size,
    concurrency: step.concurrency ?? 10,
    key,
    results,
    resultKey,
  };
}

/** A key as the loader compares it: scalars by their text (1 and "1" are one key), others as JSON. */
function keyText(key: unknown): string {
  return typeof key === 'object' && key !== null ? JSON.stringify(key) : String(key);
}

/** Builds a batch step's body: it asks the request's loader for its own key. */
export function createBatchStep(spec: CallStepSpec, batch: BatchPlan): StepBody {
  const call = createServiceCall(spec, false);
  const { stepId, service, operation } = spec;
  const expressionError = (field: string, cause: unknown): ChorusError => {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    return new ChorusError('CHORUS_EXPRESSION_FAILED', `step "${stepId}" batch.${field}: ${reason}`, {
      cause,
      extras: { step: stepId },
    });
  };

  /** One request's loader: calls the operation per batch of keys, at most `concurrency` at once. */
  const createLoader = (scope: Scope, ctx: FlowContext): DataLoader<unknown, unknown, string> => {
    let inFlight = 0;
    const waiting: (() => void)[] = [];
    const slot = async (): Promise<void> => {
      if (inFlight < batch.concurrency) {
        inFlight++;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    };
    const release = (): void => {
      const next = waiting.shift();
      if (next) next();
      else inFlight--;
    };
    const load = async (keys: readonly unknown[]): Promise<unknown[]> => {
      await slot();
      try {
        const batchScope = { ...scope, batch: { keys } } as Scope;
        const input = spec.input.evaluate(batchScope) as Record<string, unknown>;
        const answer = await (ctx.tracer === undefined
          ? call(input, ctx)
          : callInSpan(call, input, ctx, `${service}.${operation}`, {
              'chorus.step': stepId,
              'chorus.batch.keys': keys.length,
            }));
        let results: unknown;
        try {
          results = batch.results.evaluate({ ...scope, batch: { keys, output: answer.output } } as Scope);
        } catch (cause) {
          throw expressionError('results', cause);
        }
        if (!Array.isArray(results)) {
          throw expressionError('results', new Error('the answer gave no list of results'));
        }
        // Matched by key: the first result of each key wins, extra and unknown ones are ignored.
        const byKey = new Map<string, unknown>();
        for (const result of results) {
          let key: unknown;
          try {
            key = batch.resultKey.evaluate({ ...scope, result } as Scope);
          } catch (cause) {
            throw expressionError('resultKey', cause);
          }
          const text = keyText(key);
          if (!byKey.has(text)) byKey.set(text, result);
        }
        return keys.map((key) => {
          const text = keyText(key);
          if (byKey.has(text)) return byKey.get(text);
          return new ChorusError(
            'CHORUS_BATCH_KEY_MISSING',
            `${service}.${operation} answered no result for key ${JSON.stringify(key)}`,
            { extras: { step: stepId, service, operation, key } },
          );
        });
      } finally {
        release();
      }
    };
    return new DataLoader<unknown, unknown, string>(load, { maxBatchSize: batch.size, cacheKeyFn: keyText });
  };

  return (scope, ctx) => {
    let key: unknown;
    try {
      key = batch.key.evaluate(scope);
    } catch (cause) {
      throw expressionError('key', cause);
    }
    if (key === null || key === undefined) {
      throw new ChorusError('CHORUS_BATCH_KEY_MISSING', `step "${stepId}": the batch key is null`, {
        extras: { step: stepId, service, operation },
      });
    }
    // The request's loaders live in its memo (FlowContext.memo, emptied when the request ends).
    const memo = ctx.memo ?? new Map<string, unknown>();
    const memoKey = `batch\u0000${batch.group}`;
    let loader = memo.get(memoKey) as DataLoader<unknown, unknown, string> | undefined;
    if (loader === undefined) {
      loader = createLoader(scope, ctx);
      memo.set(memoKey, loader);
    }
    return loader.load(key);
  };
}
