/**
 * The compiled plan: what a config becomes once, at load. Immutable; the request path only reads
 * it. A reload builds a new plan and swaps it; in-flight requests finish on the old one.
 */
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { CoreConfig } from '../config/schema.ts';
import type { Connector } from '../contracts/connector.ts';
import type { Consumer, InboundHandler, PreflightHandler } from '../contracts/policy.ts';
import type { CompiledExpression, Scope } from '../expressions/cel.ts';
import type { CompiledTemplate } from '../expressions/template.ts';
import type { InputValidator } from './input.ts';

/** Per-request facts the flow runner and connectors need. */
export interface FlowContext {
  requestId: string;
  /** Aborts every backend call of the request (client gone, deadline, a fatal step failure). */
  controller: AbortController;
  /** Epoch milliseconds after which the request has failed. */
  deadline: number;
  logger: Logger;
  /** Headers every backend call carries (x-request-id, later traceparent). */
  propagate: Record<string, string>;
  /** The request's span, when tracing is on; backend calls become its children. */
  span?: Span;
  /** The tracer, when tracing is on: each call and code step run gets a span (child of `span`). */
  tracer?: Tracer;
  /**
   * What the request's steps share (identical calls, batch loaders), by key: set only for
   * endpoints that share calls (EndpointPlan.sharesCalls), emptied when the request ends, so
   * nothing a finished request read stays reachable through whatever still holds its context.
   */
  memo?: Map<string, unknown>;
}

/** A warning recorded when an optional step failed and was skipped or replaced by its fallback. */
export interface FlowWarning {
  step: string;
  code: string;
  message: string;
  /** Under forEach: the position of the item that failed. */
  index?: number;
  /** Under forEach with itemKey: the key the config names the item by. */
  key?: unknown;
}

/** The mutable state of one flow run: the scope expressions read. */
export interface FlowScope extends Scope {
  request: RequestData;
  steps: Record<string, unknown>;
  warnings: FlowWarning[];
}

/** The request as expressions see it. */
export interface RequestData {
  method: string;
  path: string;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
  /** Who calls, when an auth policy has said so. */
  consumer?: Consumer | undefined;
  /** The request id (x-request-id, as sent back and to every backend). */
  id?: string;
  /** The client address (X-Forwarded-For only from trusted proxies). */
  clientIp?: string;
}

/** How a failed step is handled. */
export type OnErrorPlan =
  | { mode: 'fail' }
  | { mode: 'skip' }
  | { mode: 'fallback'; expression: CompiledExpression };

/** One step, compiled. */
export interface StepPlan {
  readonly id: string;
  readonly index: number;
  readonly kind: 'call' | 'map' | 'code';
  /** Indices of steps this one waits for. */
  readonly dependencies: readonly number[];
  /** Indices of steps waiting for this one. */
  readonly dependents: readonly number[];
  readonly when: CompiledExpression | undefined;
  readonly forEach: CompiledExpression | undefined;
  readonly concurrency: number;
  /** With forEach: names an item in its warnings (besides its index). */
  readonly itemKey: CompiledExpression | undefined;
  /** A batch step: its runs only ask for keys, so the spans are its batch calls', not its runs'. */
  readonly batched: boolean;
  readonly onError: OnErrorPlan;
  /** For call steps: the service and operation, for the portal and logs. */
  readonly target: { service: string; operation: string } | undefined;
  /** Attributes of the step's spans (id, kind, service, operation, the steps it waits for), built once. */
  readonly traceAttributes: Readonly<Attributes>;
  /** Runs the step's body once (once per item under forEach). */
  readonly execute: (scope: Scope, ctx: FlowContext) => Promise<unknown> | unknown;
}

/** A flow, compiled: steps in declaration order with their dependency graph. */
export interface FlowPlan {
  readonly steps: readonly StepPlan[];
  /** Steps without dependencies: they start at once. */
  readonly roots: readonly number[];
}

/** One response, compiled. */
export interface ResponseCasePlan {
  /** Answers when true; undefined for the last (default) case. */
  readonly when: CompiledExpression | undefined;
  readonly status: CompiledTemplate;
  readonly headers: readonly { name: string; value: CompiledTemplate }[];
  readonly body: CompiledTemplate | undefined;
}

/** The responses, compiled: the first case whose `when` holds answers. */
export interface ResponsePlan {
  readonly cases: readonly ResponseCasePlan[];
}

/** A public endpoint, compiled. */
export interface EndpointPlan {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly timeoutMs: number;
  /** Whether any part of the endpoint reads the request body (else the body is not read). */
  readonly readsBody: boolean;
  /** Whether its steps share calls within a request (identical calls, batches): FlowContext.memo. */
  readonly sharesCalls: boolean;
  readonly validateInput: InputValidator;
  readonly flow: FlowPlan;
  readonly response: ResponsePlan;
  /** Answers a request: the endpoint's handler wrapped in its inbound policies, composed once. */
  readonly handle: InboundHandler;
  /** Answers the endpoint's CORS preflights, when its inbound policies include cors. */
  readonly preflight?: PreflightHandler | undefined;
}

/** The client address of a request from the TCP peer and X-Forwarded-For (trusted proxies only). */
export type ClientIpResolver = (
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
) => string;

/** A service's upstream state (breaker, bulkhead, hosts) as the admin routes show it. */
export interface UpstreamStatus {
  readonly service: string;
}

/**
 * The whole gateway, compiled. `Config` is the validated config as the layer holding the plan
 * reads it: the engine knows the core; the server and portal add the sections they read.
 */
export interface GatewayPlan<Config extends CoreConfig = CoreConfig> {
  readonly config: Config;
  readonly endpoints: readonly EndpointPlan[];
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Environment variables exposed to expressions as env (only those named in config vars, never all). */
  readonly env: Readonly<Record<string, string>>;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly bodyLimit: number;
  readonly jsonDepthLimit: number;
  readonly requestTimeoutMs: number;
  readonly shutdownGraceMs: number;
  /** The client address of a request (X-Forwarded-For only from trusted proxies). */
  readonly clientIp: ClientIpResolver;
  /** Services some step calls; only these decide readiness (an unused broker service does not). */
  readonly calledServices: ReadonlySet<string>;
  /** The OpenAPI document of the API (built by the wiring, which knows what each policy adds). */
  readonly openApi: unknown;
  /** The upstream state of every service, read when asked (the admin upstreams route). */
  upstreams(): readonly UpstreamStatus[];
  /** Closes connector pools. */
  close(): Promise<void>;
}
