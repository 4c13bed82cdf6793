/**
 * The result cache of a step and the invalidation a step does, wrapped around its body at load.
 * A cached step returns its stored output without running (a 'cache.hit' event on the request's
 * span); concurrent misses of one key run the step once. A step with `invalidate` removes the
 * named cache entries once it has succeeded (a write endpoint dropping what a read endpoint
 * cached). A store that fails is skipped: the step runs uncached, a failed removal is logged.
 */
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ConfigPath } from '../../contracts/issues.ts';
import type { PolicyFactoryContext } from '../../contracts/policy.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import type { CompiledExpression, Scope } from '../../expressions/cel.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { RawJson } from '../../json/raw.ts';
import type { StateStore } from '../../state/store.ts';
import type { PolicyRuntime } from '../shared.ts';
import { Coalescer, LeaderGone } from './entry.ts';
import type { InvalidateConfig, StepCacheConfig } from './schema.ts';

/** What wrapping a step needs. */
export interface StepCacheContext extends PolicyFactoryContext {
  readonly runtime: Pick<PolicyRuntime, 'stores'>;
  readonly endpointId: string;
  /** Where the step is in the config. */
  readonly at: ConfigPath;
  /** Compiles a CEL expression with the step's scope; reports issues itself. */
  readonly compileExpression: (source: string, at: ConfigPath) => CompiledExpression | undefined;
}

/** What the cache reads of the run of a step (the engine's flow context has it). */
export interface StepRun {
  readonly requestId: string;
  readonly logger: Logger;
  readonly controller: AbortController;
  readonly span?: Span | undefined;
}

/** A step's body: its output from the scope and the run. */
type Execute<Run extends StepRun> = (scope: Scope, run: Run) => Promise<unknown> | unknown;

/** The step settings the cache reads. */
export interface CachedStep {
  readonly id: string;
  readonly cache?: unknown;
  readonly invalidate?: unknown;
}

// Stored outputs: a tag byte, then JSON text (J) or raw forwarded JSON bytes (R).
const JSON_TAG = 0x4a;
const RAW_TAG = 0x52;

/** Wraps a step's body with its cache and its invalidation, as configured. */
export function wrapStepCaching<Run extends StepRun>(
  step: CachedStep,
  execute: Execute<Run>,
  ctx: StepCacheContext,
): Execute<Run> {
  const cache = step.cache as StepCacheConfig | undefined;
  const invalidate = step.invalidate as InvalidateConfig | undefined;
  let wrapped = execute;
  if (invalidate !== undefined) wrapped = withInvalidation(wrapped, invalidate, ctx);
  if (cache !== undefined) wrapped = withCache(step.id, wrapped, cache, ctx);
  return wrapped;
}

function withCache<Run extends StepRun>(
  stepId: string,
  execute: Execute<Run>,
  config: StepCacheConfig,
  ctx: StepCacheContext,
): Execute<Run> {
  const name = config.name ?? `${ctx.endpointId}.${stepId}`;
  const cacheAt: ConfigPath = [...ctx.at, 'cache'];
  const store = ctx.runtime.stores.select(config.store, cacheAt, ctx.issue);
  const key = ctx.compileExpression(config.key, [...cacheAt, 'key']);
  if (key === undefined) return execute;
  const { ttl: ttlMs, maxEntryBytes: maxBytes } = config;
  const prefix = `c:${name}:`;
  const coalescer = new Coalescer<unknown>();
  const telemetry = ctx.telemetry;

  const lookupOrRun = async (storeKey: string, scope: Scope, flowCtx: Run): Promise<unknown> => {
    let stored: Buffer | undefined;
    try {
      stored = await store.cacheGet(storeKey, '');
    } catch {
      telemetry.cache(name, 'error');
    }
    if (stored !== undefined && stored.length > 0) {
      telemetry.cache(name, 'hit');
      flowCtx.span?.addEvent('cache.hit', { 'chorus.cache': name });
      return stored[0] === RAW_TAG
        ? new RawJson(stored.subarray(1))
        : parseUntrustedJson(stored.subarray(1).toString('utf8'));
    }
    telemetry.cache(name, 'miss');
    let output: unknown;
    try {
      output = await execute(scope, flowCtx);
    } catch (error) {
      if (flowCtx.controller.signal.aborted)
        throw new LeaderGone('the request that was computing left', { cause: error });
      throw error;
    }
    const bytes =
      output instanceof RawJson
        ? Buffer.concat([Buffer.of(RAW_TAG), output.bytes])
        : Buffer.concat([Buffer.of(JSON_TAG), Buffer.from(JSON.stringify(output ?? null))]);
    if (bytes.length <= maxBytes + 1) {
      try {
        await store.cacheSet(storeKey, '', bytes, ttlMs);
      } catch {
        telemetry.cache(name, 'error');
      }
    }
    return output;
  };

  return async (scope, flowCtx) => {
    const storeKey = prefix + keyText(key, scope, 'cache key');
    // Another request computing it: its answer or failure is ours, unless that request went away.
    return coalescer.share(
      storeKey,
      () => lookupOrRun(storeKey, scope, flowCtx),
      () => telemetry.cache(name, 'coalesced'),
    );
  };
}

function withInvalidation<Run extends StepRun>(
  execute: Execute<Run>,
  config: InvalidateConfig,
  ctx: StepCacheContext,
): Execute<Run> {
  const entries = Array.isArray(config) ? config : [config];
  const targets: { store: StateStore; prefix: string; key: CompiledExpression; cache: string }[] = [];
  entries.forEach((entry, index) => {
    const at: ConfigPath = Array.isArray(config)
      ? [...ctx.at, 'invalidate', index]
      : [...ctx.at, 'invalidate'];
    const location = ctx.runtime.stores.caches.get(entry.cache);
    const key = ctx.compileExpression(entry.key, [...at, 'key']);
    if (location === undefined) {
      const known = [...ctx.runtime.stores.caches.keys()];
      ctx.issue([...at, 'cache'], `no cache named "${entry.cache}" (caches: ${known.join(', ') || 'none'})`);
      return;
    }
    if (key === undefined) return;
    targets.push({
      store: ctx.runtime.stores.select(location.store, location.at, () => {}),
      prefix: `c:${entry.cache}:`,
      key,
      cache: entry.cache,
    });
  });
  if (targets.length === 0) return execute;
  return async (scope, flowCtx) => {
    const output = await execute(scope, flowCtx);
    await Promise.all(
      targets.map(async (target) => {
        const storeKey = target.prefix + keyText(target.key, scope, 'invalidate key');
        try {
          await target.store.cacheDelete(storeKey);
        } catch (error) {
          ctx.telemetry.cache(target.cache, 'error');
          flowCtx.logger.warn(
            { requestId: flowCtx.requestId, cache: target.cache, err: (error as Error).message },
            'cache invalidation failed',
          );
        }
      }),
    );
    return output;
  };
}

function keyText(expression: CompiledExpression, scope: Scope, what: string): string {
  let value: unknown;
  try {
    value = expression.evaluate(scope);
  } catch (cause) {
    throw new ChorusError('CHORUS_EXPRESSION_FAILED', `${what}: ${(cause as Error).message}`, { cause });
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
