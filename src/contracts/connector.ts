/**
 * The contract between the flow engine and the connectors. A connector speaks one protocol
 * (http, soap, graphql, …) and never knows which endpoint called it; the engine never knows
 * which protocol a service speaks. A connector kind is a module: one folder that exports a
 * `ConnectorModule`, registered by one line in `src/modules.ts`.
 */
import type { Client as GrpcClient } from '@grpc/grpc-js';
import type { Span } from '@opentelemetry/api';
import type { ChannelModel } from 'amqplib';
import type { ConnectionOptions, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { z } from 'zod';

/** The input of one operation call, built by the step's input template. */
export interface ConnectorInput {
  /** Path parameters (http) or named arguments. */
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body?: unknown;
  [other: string]: unknown;
}

/** One call of a service operation. */
export interface ConnectorCall {
  /** The operation name as declared under the service's `operations`. */
  operation: string;
  input: ConnectorInput;
  /** Headers to propagate (x-request-id, traceparent); the connector adds them to its own. */
  headers: Record<string, string>;
  /** Fires when the request is cancelled (client gone, deadline, sibling failure). */
  signal: AbortSignal;
  /** The time this call may take: the step's timeout (else the service's), capped by the time left of the deadline. */
  timeoutMs: number;
  /** Whether `timeoutMs` is the request deadline's remaining time (decides the error code on expiry). */
  deadlineBound: boolean;
  /** Epoch milliseconds when the request's deadline passes; retries must fit before it. */
  deadline?: number;
  /**
   * The caller only forwards the answer as the whole response body: a connector may return a
   * successful JSON answer undecoded, as `raw`, instead of `output`.
   */
  raw?: boolean;
}

/** What a connector answers. `output` is plain JSON data. */
export interface ConnectorResult {
  output: unknown;
  /** The undecoded JSON body, when the call asked for `raw` and the answer is JSON. */
  raw?: Buffer;
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
}

/** Per-call facts a connector may use (logging, tracing) without knowing the endpoint. */
export interface CallContext {
  requestId: string;
  logger: Logger;
  /** The request's span when tracing is on; policies add events to it (retry, cache hit, breaker open). */
  span?: Span;
}

/** A description of an operation, for the portal, load-time checks and the retry policy. */
export interface OperationDescription {
  name: string;
  summary?: string;
  /** Inputs the operation reads (e.g. path params it needs). */
  requiredParams: readonly string[];
  /** Whether calling it twice has the effect of calling it once (a retry may repeat it). */
  idempotent: boolean;
  [other: string]: unknown;
}

/** One backend host of a service, as status pages show it. */
export interface HostStatus {
  readonly origin: string;
  /** Calls in flight to it. */
  readonly pending: number;
  /** Taken out of rotation after consecutive failures (outlier ejection). */
  readonly ejected: boolean;
  /** The last health check's verdict (true without health checks). */
  readonly healthy: boolean;
}

/** A live client for one service. */
export interface Connector {
  readonly kind: string;
  readonly service: string;
  call(call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult>;
  describe(): readonly OperationDescription[];
  /**
   * Whether the connector can take calls now (a broker connection is up). Optional: connectors
   * without a standing connection are always ready. /readyz is 503 while any connector is not.
   */
  ready?(): boolean;
  /** The backend hosts and their health, for connectors that balance over several. */
  hosts?(): readonly HostStatus[];
  close(): Promise<void>;
}

/** Problems found while building a connector from its config, reported at load time. */
export interface ConnectorIssue {
  /** Path below the service entry, e.g. ['operations', 'get', 'path']. */
  path: readonly (string | number)[];
  message: string;
}

/** Everything a connector factory gets besides its service's config entry (validated by its schema). */
export interface ConnectorFactoryContext {
  service: string;
  /** Directory of the config file, for files the service names (WSDL, .proto). */
  baseDir: string;
  logger: Logger;
  /**
   * Given only by `chorus test`: the connector opens these in place of its network clients, so
   * its own encoding and decoding run and the bytes go to the test's declared answers. Read once
   * at load; a serving gateway has none and pays nothing for it.
   */
  standIn?: TransportStandIn | undefined;
}

/** Stand-ins for the network clients of the transports (chorus test): each has the real client's type. */
export interface TransportStandIn {
  /** An undici pool answering the requests to one origin (http, soap, graphql, xml). */
  readonly httpPool: (origin: string) => Pool;
  /** Replaces the nats client's `connect`. */
  readonly natsConnect: (options: ConnectionOptions) => Promise<NatsConnection>;
  /** A gRPC client whose unary calls are answered in process. */
  readonly grpcClient: (address: string) => GrpcClient;
  /** Replaces amqplib's `connect`. */
  readonly amqpConnect: (url: string, options: object) => Promise<ChannelModel>;
}

/** Builds a connector from its service config, or reports issues. */
export type ConnectorFactory<Config> = (
  config: Config,
  ctx: ConnectorFactoryContext,
) => Promise<Connector | { issues: ConnectorIssue[] }>;

/** What a connector kind can do; the engine and the docs read it. */
export interface ConnectorCapabilities {
  /** Whether the kind is reached over HTTP(S) base URLs (shares the HTTP transport: balancing, TLS, health checks). */
  readonly http: boolean;
  /** Whether a successful answer can be forwarded undecoded (ConnectorCall.raw). */
  readonly rawPassthrough: boolean;
  /** Whether the kind keeps a standing connection whose loss makes the gateway not ready. */
  readonly standingConnection: boolean;
}

/**
 * A connector kind: its service schema (its own fields; the gateway adds the upstream policy
 * fields), what it can do, and its factory. `kind` is the `kind:` value in the config.
 */
export interface ConnectorModule<Schema extends z.ZodObject = z.ZodObject> {
  readonly kind: string;
  /** One line for the docs' kind table. */
  readonly summary: string;
  readonly schema: Schema;
  readonly capabilities: ConnectorCapabilities;
  readonly create: ConnectorFactory<z.output<Schema>>;
}
