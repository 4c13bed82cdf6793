/**
 * The response cache of an endpoint. A hit answers at once with the stored status, headers and
 * bytes (plus Age and X-Cache: HIT); a miss runs the endpoint and stores what may be stored.
 * Concurrent misses of one key make one call: the first runs it, the others await its answer
 * (also while the Redis lookup is in flight). Errors, partial answers (chorus-partial), statuses
 * not listed, answers with Set-Cookie or Cache-Control no-store/private, and answers over
 * maxEntryBytes are not stored. A store that fails is skipped (the endpoint answers uncached).
 */
import { stringify as stringifyQuery } from 'node:querystring';
import type {
  InboundContext,
  InboundHandler,
  InboundPolicy,
  InboundPolicyContext,
  Reply,
} from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { type CompiledExpression, compileExpression } from '../../../expressions/cel.ts';
import {
  type CachedAnswer,
  Coalescer,
  decodeAnswer,
  encodeAnswer,
  LeaderGone,
  ownCopy,
} from '../../cache/entry.ts';
import { requestScope } from '../../request-scope.ts';
import type { PolicyRuntime } from '../../shared.ts';
import type { ResponseCacheConfig } from './schema.ts';

/** Headers never stored: per-request, per-client or added by outer policies. */
const UNSTORED_HEADERS = new Set([
  'x-request-id',
  'set-cookie',
  'age',
  'x-cache',
  'ratelimit',
  'ratelimit-policy',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
  'connection',
  'transfer-encoding',
  'content-length',
]);

type Outcome = { kind: 'answer'; answer: CachedAnswer } | { kind: 'reply'; reply: Reply; stored: boolean };

const REQUEST_ONLY: ReadonlySet<string> = new Set(['request']);

/** The response cache of an endpoint. */
export function createResponseCachePolicy(
  config: ResponseCacheConfig,
  ctx: InboundPolicyContext<PolicyRuntime>,
): InboundPolicy {
  const name = config.name ?? ctx.endpointId;
  const store = ctx.shared.stores.select(config.store, ctx.at, ctx.issue);
  const { ttl: ttlMs, maxEntryBytes: maxBytes } = config;
  const statuses = new Set(config.statuses);
  const prefix = `c:${name}:`;
  const keyOf = keyFunction(config.key, ctx);
  const variantOf = variantFunction(config.vary);
  const telemetry = ctx.telemetry;
  const coalescer = new Coalescer<Outcome>();

  return (next) => {
    const lookupOrFetch = async (request: InboundContext, key: string, variant: string): Promise<Outcome> => {
      let stored: Buffer | undefined;
      try {
        stored = await store.cacheGet(key, variant);
      } catch {
        telemetry.cache(name, 'error');
      }
      const cached = stored === undefined ? undefined : decodeAnswer(stored);
      if (cached) {
        telemetry.cache(name, 'hit');
        return { kind: 'answer', answer: cached };
      }
      telemetry.cache(name, 'miss');
      let reply: Reply;
      try {
        reply = await next(request);
      } catch (error) {
        if (request.controller.signal.aborted)
          throw new LeaderGone('the request that was computing left', { cause: error });
        throw error;
      }
      const answer = storable(reply, statuses, maxBytes);
      let kept = false;
      if (answer) {
        try {
          await store.cacheSet(key, variant, encodeAnswer(answer), ttlMs);
          kept = true;
        } catch {
          telemetry.cache(name, 'error');
        }
      }
      return { kind: 'reply', reply, stored: kept };
    };

    const handle: InboundHandler = async (request) => {
      const key = prefix + keyOf(request);
      const variant = variantOf(request);
      const id = `${key}\u0000${variant}`;
      const pending = coalescer.pending(id);
      if (pending) {
        try {
          const outcome = await pending;
          telemetry.cache(name, 'coalesced');
          return followerReply(outcome);
        } catch (error) {
          if (!(error instanceof LeaderGone)) throw ownCopy(error);
          return handle(request);
        }
      }
      try {
        const outcome = await coalescer.run(id, () => lookupOrFetch(request, key, variant));
        // The portal's waterfall says "from cache" for a request the cache answered.
        if (outcome.kind === 'answer') request.span?.addEvent('cache.hit', { 'chorus.cache': name });
        return outcome.kind === 'answer' ? hitReply(outcome.answer) : missReply(outcome.reply);
      } catch (error) {
        throw error instanceof LeaderGone ? error.cause : error;
      }
    };
    return handle;
  };
}

/** The key of a request: the configured expression over request, else the default key. */
function keyFunction(
  source: string | undefined,
  ctx: InboundPolicyContext<PolicyRuntime>,
): (request: InboundContext) => string {
  if (source === undefined) return defaultKey;
  let keyExpression: CompiledExpression;
  try {
    keyExpression = compileExpression(source, REQUEST_ONLY);
  } catch (error) {
    ctx.issue([...ctx.at, 'key'], `expression "${source}": ${(error as Error).message}`);
    return defaultKey;
  }
  if ([...keyExpression.requestReads].some((read) => read.startsWith('body'))) {
    ctx.issue(
      [...ctx.at, 'key'],
      'a response cache key cannot read request.body (the cache answers before it is read)',
    );
  }
  return (request) => {
    let value: unknown;
    try {
      value = keyExpression.evaluate({ request: requestScope(request) });
    } catch (cause) {
      throw new ChorusError('CHORUS_EXPRESSION_FAILED', `cache key: ${(cause as Error).message}`, {
        cause,
      });
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
}

/** What tells answers of one key apart: the consumer and/or request headers. */
function variantFunction(vary: readonly string[]): (request: InboundContext) => string {
  if (vary.length === 0) return () => '';
  const varyConsumer = vary.includes('consumer');
  const varyHeaders = vary.filter((entry) => entry !== 'consumer');
  return (request) => {
    const parts: string[] = [];
    if (varyConsumer) parts.push(request.consumer?.id ?? '');
    for (const header of varyHeaders) {
      const value = request.headers[header];
      parts.push(Array.isArray(value) ? value.join(',') : (value ?? ''));
    }
    return parts.join('\u0001');
  };
}

/** The default key: method, path and the query with its names sorted. */
function defaultKey(request: InboundContext): string {
  const names = Object.keys(request.query);
  if (names.length === 0) return `${request.method} ${request.path}`;
  names.sort();
  const sorted: Record<string, string | string[]> = {};
  for (const name of names) {
    const value = request.query[name];
    if (value !== undefined) sorted[name] = value;
  }
  return `${request.method} ${request.path}?${stringifyQuery(sorted)}`;
}

/** The answer to store, or undefined when this reply must not be stored. */
function storable(reply: Reply, statuses: ReadonlySet<number>, maxBytes: number): CachedAnswer | undefined {
  if (!statuses.has(reply.status)) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'chorus-partial' || lower === 'set-cookie') return undefined;
    if (lower === 'cache-control' && /no-store|private/i.test(value)) return undefined;
    if (!UNSTORED_HEADERS.has(lower)) headers[lower] = value;
  }
  let body: Buffer | undefined;
  if (reply.payload !== undefined)
    body = Buffer.isBuffer(reply.payload) ? reply.payload : Buffer.from(reply.payload);
  else if (reply.body !== undefined) body = Buffer.from(JSON.stringify(reply.body));
  if (body !== undefined && body.length > maxBytes) return undefined;
  return { status: reply.status, headers, body, storedAt: Date.now() };
}

function hitReply(answer: CachedAnswer): Reply {
  const age = Math.max(0, Math.floor((Date.now() - answer.storedAt) / 1000));
  const headers = { ...answer.headers, age: String(age), 'x-cache': 'HIT' };
  return answer.body === undefined
    ? { status: answer.status, headers }
    : { status: answer.status, headers, payload: answer.body };
}

function missReply(reply: Reply): Reply {
  return { ...reply, headers: { ...reply.headers, 'x-cache': 'MISS' } };
}

/** What a request that awaited another's computation answers. */
function followerReply(outcome: Outcome): Reply {
  if (outcome.kind === 'answer') return hitReply(outcome.answer);
  // Stored: the same answer a hit would give. Not stored (an error status, a partial answer): shared all the same.
  return {
    ...outcome.reply,
    headers: { ...outcome.reply.headers, 'x-cache': outcome.stored ? 'HIT' : 'MISS' },
  };
}
