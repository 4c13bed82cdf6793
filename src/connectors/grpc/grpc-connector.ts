/**
 * The `grpc` connector: calls the unary methods of one gRPC service. The .proto files are loaded
 * once at load (grpc-operations.ts), and one @grpc/grpc-js client — one channel, connected
 * lazily on the first call (grpc-channel.ts) — serves every call. Messages are serialised and
 * decoded here, not inside grpc-js, so an input that does not fit the request type and an answer
 * that does not decode are told apart from gRPC statuses (grpc-unary-call.ts).
 */
import type { Client, Metadata } from '@grpc/grpc-js';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import { unknownOperation } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { callLimit } from '../../transports/call-limit.ts';
import { channelCredentials, createClient, MAX_INT32 } from './grpc-channel.ts';
import { buildCallMetadata, buildStaticMetadata } from './grpc-metadata.ts';
import { type GrpcOperation, loadOperations } from './grpc-operations.ts';
import { type CallLimits, encodeMessage, UnaryCall } from './grpc-unary-call.ts';
import type { GrpcServiceConfig } from './schema.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** Creates the connector of one `grpc` service, or the issues that keep its config from loading. */
export async function createGrpcConnector(
  config: GrpcServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  // Durations and sizes are numbers already (the schema parsed them); only their ranges are checked here.
  const timeoutMs = config.timeout ?? DEFAULT_TIMEOUT_MS;
  if (timeoutMs <= 0) {
    issues.push({ path: ['timeout'], message: 'the timeout must be a duration above 0, such as "5s"' });
  }
  const maxResponseBytes = config.maxResponseBytes;
  if (maxResponseBytes < 1 || maxResponseBytes > MAX_INT32) {
    issues.push({ path: ['maxResponseBytes'], message: 'expected a size from 1 byte to 2gb, such as "4mb"' });
  }
  const channel = channelCredentials(config, ctx.baseDir, issues);
  const staticMetadata = buildStaticMetadata(config.metadata, issues);
  const { operations, descriptions } = loadOperations(config, ctx.baseDir, ctx.service, issues);
  if (issues.length > 0 || channel.credentials === undefined) {
    return { issues };
  }
  const client =
    ctx.standIn?.grpcClient(channel.address) ??
    createClient(channel.address, channel.credentials, maxResponseBytes);
  if ('issues' in client) return client;
  return new GrpcConnector(ctx.service, client, operations, descriptions, staticMetadata, maxResponseBytes);
}

/** A live `grpc` connector over one channel. */
class GrpcConnector implements Connector {
  readonly kind = 'grpc';
  readonly service: string;
  readonly #client: Client;
  readonly #operations: ReadonlyMap<string, GrpcOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #metadata: Metadata;
  readonly #maxResponseBytes: number;
  #closed = false;

  constructor(
    service: string,
    client: Client,
    operations: ReadonlyMap<string, GrpcOperation>,
    descriptions: readonly OperationDescription[],
    metadata: Metadata,
    maxResponseBytes: number,
  ) {
    this.service = service;
    this.#client = client;
    this.#operations = operations;
    this.#descriptions = descriptions;
    this.#metadata = metadata;
    this.#maxResponseBytes = maxResponseBytes;
  }

  call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      return Promise.reject(unknownOperation(this.service, call.operation));
    }
    let payload: Buffer;
    let metadata: Metadata;
    let limitMs: number;
    try {
      payload = encodeMessage(op, call.input.message);
      metadata = buildCallMetadata(op, this.#metadata, call.headers, call.input.metadata);
      limitMs = callLimit(call, op.extras);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = call.signal;
    const limits: CallLimits = {
      limitMs,
      deadlineBound: call.deadlineBound,
      maxResponseBytes: this.#maxResponseBytes,
    };
    return new Promise((resolve, reject) => {
      const pending = new UnaryCall(op, signal, limits, resolve, reject);
      try {
        pending.start(this.#client, payload, metadata);
      } catch (error) {
        // grpc-js refuses to start calls on a closed channel (a retired plan).
        reject(
          new ChorusError(
            'CHORUS_UPSTREAM_TRANSPORT',
            `service "${op.extras.service}" operation "${op.name}": the call could not start (${(error as Error).message})`,
            { cause: error, extras: op.extras },
          ),
        );
      }
    });
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // Calls in flight finish; new calls on a closed client fail at once.
      this.#client.close();
    }
    return Promise.resolve();
  }
}
