/**
 * The response cache of an endpoint. A hit answers at once with the stored status, headers and
 * bytes (plus Age, Cache-Control with the time left, and X-Cache: HIT); a miss runs the endpoint
 * and stores what may be stored, with the ETag of its body (so a hit is not hashed again). A
 * client's Cache-Control no-cache / max-age=0 (or Pragma: no-cache) goes past the lookup and
 * refreshes the entry, no-store also keeps the answer out, max-age=N refuses older entries —
 * unless clientDirectives is ignore; each such request counts as a `bypass`.
 * Concurrent misses of one key make one call: the first runs it, the others await its answer
 * (also while the Redis lookup is in flight). Errors, partial answers (chorus-partial), statuses
 * not listed, answers with Set-Cookie or Cache-Control no-store/private, and answers over
 * maxEntryBytes are not stored. A store that fails is skipped (the endpoint answers uncached).
 */
import { hash } from 'node:crypto';
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
import { staleServices } from '../../../state/stale-marks.ts';
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
  const honour = config.clientDirectives === 'honour';
  // An answer to an identified caller (or varying by consumer) is for that client only: a shared
  // cache in front (a CDN) must not keep it and hand it to callers it never authenticated.
  const publicly = { ttlMs, scope: 'public' } as const;
  const privately = { ttlMs, scope: 'private' } as const;
  const varyConsumer = config.vary.includes('consumer');
  const freshnessOf = (request: InboundContext): Freshness =>
    varyConsumer || request.consumer !== undefined || request.headers.authorization !== undefined
      ? privately
      : publicly;

  return (next) => {
    const fetchAndStore = async (
      request: InboundContext,
      key: string,
      variant: string,
      keep: boolean,
    ): Promise<Outcome> => {
      let reply: Reply;
      try {
        reply = await next(request);
      } catch (error) {
        if (request.controller.signal.aborted)
          throw new LeaderGone('the request that was computing left', { cause: error });
        throw error;
      }
      // An answer built from a stale backend answer (stale-if-error) is not kept past this request.
      const answer =
        keep && staleServices(request.controller.signal) === undefined
          ? storable(reply, statuses, maxBytes)
          : undefined;
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

    const lookupOrFetch = async (
      request: InboundContext,
      key: string,
      variant: string,
      maxAgeMs: number | undefined,
    ): Promise<Outcome> => {
      let stored: Buffer | undefined;
      try {
        stored = await store.cacheGet(key, variant);
      } catch {
        telemetry.cache(name, 'error');
      }
      const cached = stored === undefined ? undefined : decodeAnswer(stored);
      if (cached && (maxAgeMs === undefined || Date.now() - cached.storedAt <= maxAgeMs)) {
        telemetry.cache(name, 'hit');
        return { kind: 'answer', answer: cached };
      }
      telemetry.cache(name, cached ? 'bypass' : 'miss');
      return fetchAndStore(request, key, variant, true);
    };
    const handle: InboundHandler = async (request) => {
      const key = prefix + keyOf(request);
      const variant = variantOf(request);
      const asked = honour ? clientDirectives(request.headers) : undefined;
      const freshness = freshnessOf(request);
      if (asked !== undefined && asked.maxAgeMs === 0) {
        // Past the cache, on the client's word: computed now, stored unless no-store.
        telemetry.cache(name, 'bypass');
        const outcome = await fetchAndStore(request, key, variant, !asked.noStore).catch((error: unknown) => {
          throw error instanceof LeaderGone ? error.cause : error;
        });
        return outcome.kind === 'reply'
          ? missReply(outcome.reply, outcome.stored, freshness)
          : hitReply(outcome.answer, freshness);
      }
      const id = `${key}\u0000${variant}`;
      const pending = coalescer.pending(id);
      if (pending) {
        try {
          const outcome = await pending;
          telemetry.cache(name, 'coalesced');
          return followerReply(outcome, freshness);
        } catch (error) {
          if (!(error instanceof LeaderGone)) throw ownCopy(error);
          return handle(request);
        }
      }
      try {
        const outcome = await coalescer.run(id, () => lookupOrFetch(request, key, variant, asked?.maxAgeMs));
        // The portal's waterfall says "from cache" for a request the cache answered.
        if (outcome.kind === 'answer') request.span?.addEvent('cache.hit', { 'chorus.cache': name });
        return outcome.kind === 'answer'
          ? hitReply(outcome.answer, freshness)
          : missReply(outcome.reply, outcome.stored, freshness);
      } catch (error) {
        throw error instanceof LeaderGone ? error.cause : error;
      }
    };
    return handle;
  };
}

/** What a request's Cache-Control (or Pragma) asks of the cache. */
interface ClientDirectives {
  /** 0: do not answer from the cache (no-cache, no-store, max-age=0, Pragma: no-cache); else the oldest entry taken. */
  readonly maxAgeMs: number | undefined;
  readonly noStore: boolean;
}

/**
 * The request directives the cache honours (RFC 9111 §5.2.1), undefined when the request has
 * none (the common case costs two property reads). Hand-written: a split on commas; the
 * directives' arguments are not quoted strings.
 */
export function clientDirectives(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): ClientDirectives | undefined {
  const cacheControl = headers['cache-control'];
  const pragma = headers.pragma;
  if (cacheControl === undefined && pragma === undefined) return undefined;
  let maxAgeMs: number | undefined;
  let noStore = false;
  if (cacheControl !== undefined) {
    for (const part of (Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl).split(',')) {
      const equals = part.indexOf('=');
      const directive = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
      if (directive === 'no-cache') maxAgeMs = 0;
      else if (directive === 'no-store') {
        noStore = true;
        maxAgeMs = 0;
      } else if (directive === 'max-age' && equals !== -1) {
        const seconds = Number.parseInt(
          part
            .slice(equals + 1)
            .trim()
            .replace(/^"|"$/g, ''),
          10,
        );
        if (Number.isFinite(seconds) && seconds >= 0)
          maxAgeMs = Math.min(maxAgeMs ?? Infinity, seconds * 1000);
      }
    }
  } else if (typeof pragma === 'string' && pragma.toLowerCase().includes('no-cache')) {
    // Pragma counts only without Cache-Control (RFC 9111 §5.4).
    maxAgeMs = 0;
  }
  return maxAgeMs === undefined && !noStore ? undefined : { maxAgeMs, noStore };
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
    if (lower === 'cache-control' && forbidsStoring(value)) return undefined;
    if (!UNSTORED_HEADERS.has(lower)) headers[lower] = value;
  }
  let body: Buffer | undefined;
  if (reply.payload !== undefined)
    body = Buffer.isBuffer(reply.payload) ? reply.payload : Buffer.from(reply.payload);
  else if (reply.body !== undefined) body = Buffer.from(JSON.stringify(reply.body));
  if (body !== undefined && body.length > maxBytes) return undefined;
  // The server's weak ETag of the body (src/server/encoding.ts), computed once here rather than on every hit.
  if (body !== undefined && reply.status === 200 && headers.etag === undefined)
    headers.etag = `W/"${hash('sha1', body, 'base64url')}"`;
  return { status: reply.status, headers, body, storedAt: Date.now() };
}

/** Whether an answer's Cache-Control forbids storing it: no-store or private (directive names, not substrings). */
function forbidsStoring(cacheControl: string): boolean {
  for (const part of cacheControl.split(',')) {
    const equals = part.indexOf('=');
    const directive = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
    if (directive === 'no-store' || directive === 'private') return true;
  }
  return false;
}

/** How long entries are served and to whom, for the Cache-Control of answers. */
interface Freshness {
  readonly ttlMs: number;
  readonly scope: 'public' | 'private';
}

/** Cache-Control of an answer the cache holds, unless the endpoint set its own: the time it stays fresh. */
function withCacheControl(headers: Record<string, string>, freshness: Freshness, ageMs: number): void {
  if (headers['cache-control'] !== undefined) return;
  const left = Math.max(0, Math.floor((freshness.ttlMs - ageMs) / 1000));
  headers['cache-control'] = `${freshness.scope}, max-age=${left}`;
}

function hitReply(answer: CachedAnswer, freshness: Freshness): Reply {
  const ageMs = Math.max(0, Date.now() - answer.storedAt);
  const headers: Record<string, string> = {
    ...answer.headers,
    age: String(Math.floor(ageMs / 1000)),
    'x-cache': 'HIT',
  };
  withCacheControl(headers, freshness, ageMs);
  return answer.body === undefined
    ? { status: answer.status, headers }
    : { status: answer.status, headers, payload: answer.body };
}

function missReply(reply: Reply, stored: boolean, freshness: Freshness): Reply {
  const headers: Record<string, string> = { ...reply.headers, 'x-cache': 'MISS' };
  if (stored) withCacheControl(headers, freshness, 0);
  return { ...reply, headers };
}

/** What a request that awaited another's computation answers. */
function followerReply(outcome: Outcome, freshness: Freshness): Reply {
  if (outcome.kind === 'answer') return hitReply(outcome.answer, freshness);
  // Stored: the same answer a hit would give. Not stored (an error status, a partial answer): shared all the same.
  const headers: Record<string, string> = {
    ...outcome.reply.headers,
    'x-cache': outcome.stored ? 'HIT' : 'MISS',
  };
  if (outcome.stored) withCacheControl(headers, freshness, 0);
  return { ...outcome.reply, headers };
}
