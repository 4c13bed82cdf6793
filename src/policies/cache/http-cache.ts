/**
 * The HTTP cache of a service: its backend's answers kept and reused by HTTP's rules (RFC 9111,
 * RFC 5861), decided by `http-cache-semantics` rather than by hand:
 *
 * - fresh (Cache-Control max-age / s-maxage, Expires, minus Age): answered from the store;
 * - no-store, private (a shared cache), Vary: * and unlisted operations: never stored;
 * - stale, or no-cache: revalidated with If-None-Match / If-Modified-Since; a 304 refreshes the
 *   entry's headers and freshness, and the stored body is used (no body crosses the wire);
 * - stale within stale-while-revalidate: answered at once, and one background call refreshes it;
 * - stale within stale-if-error, and the backend fails (transport error, timeout, 5xx, breaker
 *   open): the stale answer, and the reply says so (`chorus-stale: <service>`);
 * - Vary: one entry per value of the request headers it names.
 *
 * The outermost upstream policy, so a hit needs no credentials nor a breaker slot, and stale-if-error
 * covers an open breaker and retries given up. Concurrent misses of one request make one call.
 */
import CachePolicy from 'http-cache-semantics';
import type { CallContext, ConnectorCall, ConnectorResult } from '../../contracts/connector.ts';
import type { UpstreamPolicy, UpstreamPolicyContext } from '../../contracts/policy.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { markStale } from '../../state/stale-marks.ts';
import type { StateStore } from '../../state/store.ts';
import { Coalescer, LeaderGone } from './entry.ts';
import type { HttpCachePolicyConfig } from './http-cache-schema.ts';

/** A stored answer: its policy (request and response heads, when stored), the body and how to read it. */
interface StoredAnswer {
  readonly policy: CachePolicy;
  readonly status: number;
  /** J: JSON text of the decoded output; R: the backend's JSON bytes, kept undecoded. */
  readonly kind: 'J' | 'R';
  /** The variant slot it was stored under ('' without Vary). */
  readonly variant: string;
  readonly body: Buffer;
}

/** Request headers as http-cache-semantics reads them. */
type Heads = Record<string, string>;

const NEWLINE = 0x0a;
const SHARED = { shared: true } as const;

/** What building the cache needs. */
export interface HttpCacheContext extends UpstreamPolicyContext {
  /** The store the config names (memory or Redis). */
  readonly store: StateStore;
  /** The HTTP method of each operation of the service. */
  readonly methods: ReadonlyMap<string, string>;
}

/** The HTTP cache of a service, as an upstream policy. */
export function createHttpCachePolicy(config: HttpCachePolicyConfig, ctx: HttpCacheContext): UpstreamPolicy {
  const { store, service, telemetry } = ctx;
  const name = `${service}.http`;
  const cached = new Set(
    config.operations ?? [...ctx.methods].filter(([, method]) => method === 'GET').map(([op]) => op),
  );
  const coalescer = new Coalescer<ConnectorResult>();
  const refreshing = new Set<string>();
  const override = config.override;

  return (next) => {
    /** Encodes and stores an answer under its variant (and as the key's latest, which lookups read first). */
    const keep = async (
      key: string,
      request: CachePolicy.Request,
      result: ConnectorResult,
    ): Promise<void> => {
      const headers = responseHeads(result.headers, override);
      const policy = new CachePolicy(request, { status: result.status ?? 200, headers }, SHARED);
      const vary = varyNames(headers.vary);
      if (!policy.storable() || vary === undefined) return;
      const body =
        result.raw !== undefined ? result.raw : Buffer.from(JSON.stringify(result.output ?? null), 'utf8');
      if (body.length > config.maxEntryBytes) return;
      const answer: StoredAnswer = {
        policy,
        status: result.status ?? 200,
        kind: result.raw !== undefined ? 'R' : 'J',
        variant: variantOf(vary, request.headers as Heads),
        body,
      };
      await save(key, answer);
    };

    const save = async (key: string, answer: StoredAnswer): Promise<void> => {
      const bytes = encode(answer);
      const validator =
        answer.policy.responseHeaders().etag !== undefined ||
        answer.policy.responseHeaders()['last-modified'] !== undefined;
      const ttlMs = Math.max(1, answer.policy.timeToLive() + (validator ? config.keep : 0));
      try {
        await store.cacheSet(key, '', bytes, ttlMs);
        if (answer.variant !== '') await store.cacheSet(key, answer.variant, bytes, ttlMs);
      } catch {
        telemetry.cache(name, 'error');
      }
    };

    /** The stored answer for a request: the key's latest, or the variant its Vary names. */
    const lookup = async (key: string, heads: Heads): Promise<StoredAnswer | undefined> => {
      try {
        const latest = decode(await store.cacheGet(key, ''));
        if (latest === undefined) return undefined;
        const vary = varyNames(latest.policy.responseHeaders().vary as string | undefined);
        if (vary === undefined || vary.length === 0) return latest;
        const variant = variantOf(vary, heads);
        return variant === latest.variant ? latest : decode(await store.cacheGet(key, variant));
      } catch {
        telemetry.cache(name, 'error');
        return undefined;
      }
    };

    /** Calls the backend, conditionally when a stored answer has validators; stores what comes back. */
    const fetchAndKeep = async (
      call: ConnectorCall,
      callCtx: CallContext,
      key: string,
      request: CachePolicy.Request,
      stale: StoredAnswer | undefined,
    ): Promise<ConnectorResult> => {
      const conditional =
        stale === undefined ? undefined : (stale.policy.revalidationHeaders(request) as Heads);
      const validators =
        conditional === undefined ? undefined : pick(conditional, ['if-none-match', 'if-modified-since']);
      let result: ConnectorResult;
      try {
        result = await next(
          validators === undefined ? call : { ...call, headers: { ...call.headers, ...validators } },
          callCtx,
        );
      } catch (error) {
        if (stale !== undefined && !call.signal.aborted && servesStaleOn(error, stale.policy, request)) {
          telemetry.cache(name, 'stale');
          markStale(call.signal, service);
          return resultOf(stale, call.raw === true);
        }
        throw error;
      }
      if (stale !== undefined && result.status === 304) {
        const { policy, modified } = stale.policy.revalidatedPolicy(request, {
          status: 304,
          headers: responseHeads(result.headers, override),
        });
        if (!modified) {
          telemetry.cache(name, 'revalidated');
          const refreshed = { ...stale, policy };
          await save(key, refreshed);
          return resultOf(refreshed, call.raw === true);
        }
      }
      await keep(key, request, result);
      return result;
    };

    /** One background refresh of a stale entry at a time (stale-while-revalidate), on its own deadline. */
    const refreshInBackground = (
      call: ConnectorCall,
      callCtx: CallContext,
      key: string,
      id: string,
      request: CachePolicy.Request,
      stale: StoredAnswer,
    ): void => {
      if (refreshing.has(id)) return;
      refreshing.add(id);
      const { deadline: _deadline, ...rest } = call;
      const detached: ConnectorCall = {
        ...rest,
        signal: AbortSignal.timeout(call.timeoutMs),
        deadlineBound: false,
      };
      fetchAndKeep(detached, callCtx, key, request, stale)
        .catch((error: unknown) => {
          callCtx.logger.warn(
            { requestId: callCtx.requestId, service, err: (error as Error).message },
            'background refresh of a stale cache entry failed',
          );
        })
        .finally(() => refreshing.delete(id));
    };

    const answer = async (
      call: ConnectorCall,
      callCtx: CallContext,
      key: string,
      id: string,
      request: CachePolicy.Request,
    ): Promise<ConnectorResult> => {
      const stored = await lookup(key, request.headers as Heads);
      if (stored === undefined) {
        telemetry.cache(name, 'miss');
        return fetchAndKeep(call, callCtx, key, request, undefined);
      }
      const { response, revalidation } = stored.policy.evaluateRequest(request);
      if (response !== undefined && revalidation === undefined) {
        telemetry.cache(name, 'hit');
        return resultOf(stored, call.raw === true);
      }
      if (response !== undefined && revalidation !== undefined && !revalidation.synchronous) {
        telemetry.cache(name, 'stale');
        markStale(call.signal, service);
        refreshInBackground(call, callCtx, key, id, request, stored);
        return resultOf(stored, call.raw === true);
      }
      telemetry.cache(name, 'miss');
      return fetchAndKeep(call, callCtx, key, request, stored);
    };

    return async (call, callCtx) => {
      const method = ctx.methods.get(call.operation);
      if (method === undefined || !cached.has(call.operation)) return next(call, callCtx);
      const heads = requestHeads(call.input.headers);
      const key = `h:${service}:${call.operation} ${keyOf(call.input)}`;
      const request: CachePolicy.Request = { method, url: key, headers: heads };
      // Requests differing only in headers are one computation only when their headers are the same.
      const id = `${key}\u0000${JSON.stringify(heads)}`;
      return coalescer.share(
        id,
        async () => {
          try {
            return await answer(call, callCtx, key, id, request);
          } catch (error) {
            if (call.signal.aborted)
              throw new LeaderGone('the request that was computing left', { cause: error });
            throw error;
          }
        },
        () => telemetry.cache(name, 'coalesced'),
      );
    };
  };
}

/**
 * Whether a failed call may be answered with the stale entry: the backend failed (not a 4xx, which
 * is an answer) and the entry is within its stale-if-error window. http-cache-semantics decides the
 * window: revalidatedPolicy without a response keeps the entry only within it, and throws beyond.
 */
function servesStaleOn(error: unknown, policy: CachePolicy, request: CachePolicy.Request): boolean {
  if (error instanceof ChorusError) {
    const status = error.extras.upstreamStatus;
    if (typeof status === 'number' && status < 500) return false;
  }
  try {
    return !policy.revalidatedPolicy(request, undefined as unknown as CachePolicy.Response).modified;
  } catch {
    return false;
  }
}

/** The connector result of a stored answer, its headers as the cache serves them (with Age). */
function resultOf(answer: StoredAnswer, raw: boolean): ConnectorResult {
  const headers = answer.policy.responseHeaders() as Record<string, string | string[] | undefined>;
  if (answer.kind === 'R' && raw)
    return { output: undefined, raw: answer.body, status: answer.status, headers };
  return { output: parseUntrustedJson(answer.body.toString('utf8')), status: answer.status, headers };
}

/** The key of a call: its operation's input without headers (those count through Vary). */
function keyOf(input: ConnectorCall['input']): string {
  const { headers: _headers, ...rest } = input;
  return JSON.stringify(rest);
}

/** The call's input headers, lower-cased and as text, as the backend receives them. */
function requestHeads(input: unknown): Heads {
  const heads: Heads = {};
  if (typeof input !== 'object' || input === null) return heads;
  for (const [name, value] of Object.entries(input)) {
    if (value !== undefined && value !== null) heads[name.toLowerCase()] = String(value);
  }
  return heads;
}

/** The answer's headers as http-cache-semantics reads them, with the config's directives in place of the backend's. */
function responseHeads(
  headers: ConnectorResult['headers'],
  override: HttpCachePolicyConfig['override'],
): Record<string, string | string[] | undefined> {
  const heads: Record<string, string | string[] | undefined> = { ...headers };
  if (override === undefined) return heads;
  const directives = new Map<string, string>();
  const current = heads['cache-control'];
  for (const part of (Array.isArray(current) ? current.join(',') : (current ?? '')).split(',')) {
    const equals = part.indexOf('=');
    const directive = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
    if (directive !== '') directives.set(directive, equals === -1 ? '' : part.slice(equals + 1).trim());
  }
  const seconds = (ms: number): string => String(Math.floor(ms / 1000));
  if (override.maxAge !== undefined) {
    directives.delete('s-maxage');
    directives.delete('no-cache');
    directives.set('max-age', seconds(override.maxAge));
    delete heads.expires;
  }
  if (override.staleWhileRevalidate !== undefined)
    directives.set('stale-while-revalidate', seconds(override.staleWhileRevalidate));
  if (override.staleIfError !== undefined) directives.set('stale-if-error', seconds(override.staleIfError));
  heads['cache-control'] = [...directives].map(([d, v]) => (v === '' ? d : `${d}=${v}`)).join(', ');
  return heads;
}

/** The header names of a Vary value ([] without one); undefined for `*` (never matches: not stored). */
function varyNames(vary: string | string[] | undefined): string[] | undefined {
  if (vary === undefined) return [];
  const names: string[] = [];
  for (const part of (Array.isArray(vary) ? vary.join(',') : vary).split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*') return undefined;
    if (name !== '') names.push(name);
  }
  return names.sort();
}

/** The variant slot of a request: the values of the headers Vary names. */
function variantOf(names: readonly string[], heads: Heads): string {
  if (names.length === 0) return '';
  return names.map((name) => `${name}=${heads[name] ?? ''}`).join('\u0001');
}

function pick(heads: Heads, names: readonly string[]): Heads | undefined {
  let picked: Heads | undefined;
  for (const name of names) {
    const value = heads[name];
    if (value === undefined) continue;
    picked ??= {};
    picked[name] = value;
  }
  return picked;
}

/** One JSON line (policy, status, kind, variant), then the body bytes. */
function encode(answer: StoredAnswer): Buffer {
  const meta = JSON.stringify({
    p: answer.policy.toObject(),
    s: answer.status,
    k: answer.kind,
    v: answer.variant,
  });
  return Buffer.concat([Buffer.from(`${meta}\n`), answer.body]);
}

function decode(bytes: Buffer | undefined): StoredAnswer | undefined {
  if (bytes === undefined) return undefined;
  const end = bytes.indexOf(NEWLINE);
  if (end === -1) return undefined;
  try {
    const meta = JSON.parse(bytes.subarray(0, end).toString('utf8')) as {
      p: CachePolicy.CachePolicyObject;
      s: number;
      k: 'J' | 'R';
      v: string;
    };
    return {
      policy: CachePolicy.fromObject(meta.p),
      status: meta.s,
      kind: meta.k === 'R' ? 'R' : 'J',
      variant: typeof meta.v === 'string' ? meta.v : '',
      body: bytes.subarray(end + 1),
    };
  } catch {
    // An entry of another version or a damaged one: a miss.
    return undefined;
  }
}
