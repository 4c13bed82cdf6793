/**
 * Policy shapes: inbound policies wrap an endpoint's handler (they may answer early: 401, 429, a
 * cache hit); upstream policies wrap a service's calls (timeout, retry, breaker, bulkhead). Both
 * are `(next) => handler` onions, composed once at load by one generic stack each, in the order
 * their modules declare. Policies never import node:http; the server adapts requests to an
 * InboundContext and writes the Reply. A policy is a module: one folder that exports an
 * `InboundPolicyModule` or an `UpstreamPolicyModule`, registered by one line in `src/modules.ts`.
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CallContext, Connector, ConnectorCall, ConnectorResult } from './connector.ts';
import type { ConfigPath, IssueReporter } from './issues.ts';
import type { PolicyTelemetry } from './telemetry.ts';

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

/** Answers a CORS preflight for one endpoint; throws CHORUS_CORS_REJECTED when it is refused. */
export type PreflightHandler = (headers: Record<string, string | string[] | undefined>) => Reply;

/** What every policy factory gets at load time. */
export interface PolicyFactoryContext {
  readonly logger: Logger;
  /** Directory of the config file, for files a policy names. */
  readonly baseDir: string;
  readonly issue: IssueReporter;
  /** Where the policy reports its events (metrics subscribe to them). */
  readonly telemetry: PolicyTelemetry;
}

/** A policy built for one endpoint or one service. */
export interface BuiltPolicy<Policy> {
  readonly wrap: Policy;
  /** Answers CORS preflights of the endpoint (the cors policy). */
  readonly preflight?: PreflightHandler;
  /** Live state for status pages (a breaker's state, a bulkhead's use). */
  status?(): Readonly<Record<string, unknown>>;
}

/**
 * An inbound policy kind. `name` is its key under an endpoint's `policies` (and the gateway
 * defaults); `order` places it in the stack (lower is outer). `create` returns undefined when
 * the config makes it a no-op; problems go to ctx.issue. `Name` is kept literal so the endpoint
 * `policies` schema built from a list of modules is typed key by key.
 */
export interface InboundPolicyModule<
  Schema extends z.ZodType = z.ZodType,
  Shared = unknown,
  Name extends string = string,
> {
  readonly name: Name;
  readonly order: number;
  readonly schema: Schema;
  create(config: z.output<Schema>, ctx: InboundPolicyContext<Shared>): BuiltPolicy<InboundPolicy> | undefined;
  /** What the policy adds to the endpoint's OpenAPI operation (security, responses). */
  openapi?(config: z.output<Schema>, ctx: OpenApiContext): OpenApiContribution;
}

/**
 * An inbound step the gateway places on every endpoint without a config key of its own (the
 * limits of the consumer's plan): it has an order in the stack but no schema.
 */
export interface BuiltInInboundPolicy<Shared = unknown, Name extends string = string> {
  readonly name: Name;
  readonly order: number;
  readonly builtIn: true;
  create(ctx: InboundPolicyContext<Shared>): BuiltPolicy<InboundPolicy> | undefined;
}

/** What an inbound policy factory gets besides its own config. */
export interface InboundPolicyContext<Shared = unknown> extends PolicyFactoryContext {
  /** Gateway-wide state the policies share (consumers, stores, client-address resolver). */
  readonly shared: Shared;
  /** The endpoint's operation id (for metrics, cache keys, logs). */
  readonly endpointId: string;
  readonly method: string;
  readonly path: string;
  /** Where this policy's config is: under the endpoint, or the gateway default. */
  readonly at: ConfigPath;
}

/** The gateway-level facts an OpenAPI contribution may read (e.g. the auth settings). */
export interface OpenApiContext {
  /** The whole validated config, read-only. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** An inbound policy's part of an endpoint's OpenAPI operation. */
export interface OpenApiContribution {
  /** Security requirements (OR-ed), e.g. [{ apiKey: [] }, {}]. */
  readonly security?: readonly Record<string, readonly string[]>[];
  /** The security schemes the requirements name, for components.securitySchemes. */
  readonly securitySchemes?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Extra responses by status, naming the document's problem responses (e.g. { 401: 'Unauthorized' }). */
  readonly responses?: Readonly<Record<string, string>>;
}

/**
 * An upstream policy kind. `name` is its key in a service entry; `order` places it in the stack
 * (lower is outer). The gateway adds `schema` (optional) to every service kind's schema.
 */
export interface UpstreamPolicyModule<Schema extends z.ZodType = z.ZodType, Name extends string = string> {
  readonly name: Name;
  readonly order: number;
  readonly schema: Schema;
  create(config: z.output<Schema>, ctx: UpstreamPolicyContext): BuiltPolicy<UpstreamPolicy> | undefined;
}

/** What an upstream policy factory gets besides its own config. */
export interface UpstreamPolicyContext extends PolicyFactoryContext {
  readonly service: string;
  /** The service's connector (its operations, for checks such as which ones are idempotent). */
  readonly connector: Connector;
  /** Where this policy's config is, e.g. ['services', 'orders', 'retry']. */
  readonly at: ConfigPath;
  /** Gateway-wide state the policies share (the stores, for the HTTP cache), as inbound policies get it. */
  readonly shared?: unknown;
}
