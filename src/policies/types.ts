/**
 * Policy shapes: inbound policies wrap an endpoint's handler (they may answer early: 401, 429, a
 * cache hit); upstream policies wrap a service's calls (timeout, retry, breaker, bulkhead). Both
 * are `(next) => handler` onions, composed once at load in a written order. Policies never import
 * node:http; the server adapts requests to an InboundContext and writes the Reply.
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { CallContext, ConnectorCall, ConnectorResult } from '../connectors/types.ts';

/** What an endpoint answers; the server serializes it. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value to serialize, or undefined for no body. */
  body?: unknown;
  /** Pre-serialized bytes (e.g. from a cache); sent as they are instead of body. */
  payload?: string | Buffer;
}

/** Who calls: set by the auth policy; read by rate limits, quotas, caches, logs and expressions. */
export interface Consumer {
  /** The consumer's id from config, or the JWT subject mapped to it. */
  readonly id: string;
  /** The consumer's plan name, if any. */
  readonly plan: string | undefined;
  readonly scopes: readonly string[];
  /** How the caller proved who it is. */
  readonly via: 'apiKey' | 'jwt';
  /** The id of the API key used (never the key itself). */
  readonly keyId?: string;
  /** The verified JWT claims, when via is jwt. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The facts about an inbound request that handlers and policies read. */
export interface InboundContext {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: Record<string, string | string[] | undefined>;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The TCP peer address. */
  readonly remoteAddress: string | undefined;
  /** The client address: the TCP peer, or X-Forwarded-For's client when the peer is a trusted proxy. */
  readonly clientIp: string;
  /** Aborts on client disconnect, on the deadline, and on a fatal step failure. */
  readonly controller: AbortController;
  /** Epoch milliseconds when the request's deadline passes. */
  readonly deadline: number;
  readonly logger: Logger;
  /** Who calls, once an authentication policy has said so. */
  consumer: Consumer | undefined;
  /** The request's span, when tracing is on; policies may add events to it (e.g. cache.hit). */
  readonly span?: Span;
  /** The tracer, when tracing is on (the flow runner starts the spans of steps with it). */
  readonly tracer?: Tracer;
  /** Reads the JSON body (once; later calls return the same promise). Only the handler needs it. */
  readBody(): Promise<unknown>;
}

/** Answers a request. */
export type InboundHandler = (ctx: InboundContext) => Promise<Reply>;
/** Wraps an inbound handler. */
export type InboundPolicy = (next: InboundHandler) => InboundHandler;

/** Makes one call of a service operation. */
export type UpstreamHandler = (call: ConnectorCall, ctx: CallContext) => Promise<ConnectorResult>;
/** Wraps the calls of a service. */
export type UpstreamPolicy = (next: UpstreamHandler) => UpstreamHandler;

/** Composes policies so the first listed is the outermost: compose([a, b], h) = a(b(h)). */
export function composePolicies<Handler>(
  policies: readonly ((next: Handler) => Handler)[],
  terminal: Handler,
): Handler {
  let handler = terminal;
  for (let i = policies.length - 1; i >= 0; i--) handler = policies[i]!(handler);
  return handler;
}
