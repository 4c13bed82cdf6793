/**
 * One unary gRPC call at request time: the request message serialised here (so an input that
 * does not fit the request type is told apart from gRPC statuses), the call made with its
 * deadline (sent to the server as `grpc-timeout`), cancelled with the caller's signal, and its
 * answer decoded or its status turned into a catalogue error.
 */
import {
  type Client,
  type ClientUnaryCall,
  type Metadata,
  type ServiceError,
  type StatusObject,
  status,
} from '@grpc/grpc-js';
import type { ConnectorResult } from '../../contracts/connector.ts';
import { cancellation, internal, timeoutError, tooLarge } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { metadataRecord } from './grpc-metadata.ts';
import type { GrpcOperation } from './grpc-operations.ts';

/** gRPC status names by code, for problem documents. */
const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** input.message serialised as the method's request type. */
export function encodeMessage(op: GrpcOperation, message: unknown): Buffer {
  if (message !== undefined && message !== null && (typeof message !== 'object' || Array.isArray(message))) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.message must be a map`,
    );
  }
  try {
    return op.encode((message ?? {}) as object);
  } catch (error) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.message does not fit ${op.requestType}: ${(error as Error).message}`,
      error,
    );
  }
}

/** What bounds one call: its time limit, which error its expiry is, and the size cap (for messages). */
export interface CallLimits {
  readonly limitMs: number;
  readonly deadlineBound: boolean;
  readonly maxResponseBytes: number;
}

/**
 * One call in flight: it wires the caller's signal to cancel the call, collects the response
 * headers, message and status, and settles once with the answer or a coded error.
 */
export class UnaryCall {
  readonly #op: GrpcOperation;
  readonly #signal: AbortSignal;
  readonly #limits: CallLimits;
  readonly #resolve: (result: ConnectorResult) => void;
  readonly #reject: (error: unknown) => void;
  #call: ClientUnaryCall | undefined;
  #headers: Metadata | undefined;
  #response: Buffer | undefined;

  constructor(
    op: GrpcOperation,
    signal: AbortSignal,
    limits: CallLimits,
    resolve: (result: ConnectorResult) => void,
    reject: (error: unknown) => void,
  ) {
    this.#op = op;
    this.#signal = signal;
    this.#limits = limits;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(client: Client, payload: Buffer, metadata: Metadata): void {
    const call = client.makeUnaryRequest<Buffer, Buffer>(
      this.#op.path,
      passThrough,
      passThrough,
      payload,
      metadata,
      // grpc-js sends the deadline to the server as grpc-timeout and ends the call when it passes.
      { deadline: Date.now() + this.#limits.limitMs },
      (_error: ServiceError | null, response?: Buffer) => {
        // The status event that follows carries the outcome; only the message is kept here.
        this.#response = response;
      },
    );
    this.#call = call;
    call.on('metadata', (headers: Metadata) => {
      this.#headers = headers;
    });
    call.on('status', (outcome: StatusObject) => this.#settle(outcome));
    this.#signal.addEventListener('abort', this, { once: true });
  }

  /** The caller's signal fired: cancel the call (the server sees the stream reset). */
  handleEvent(): void {
    this.#call?.cancel();
  }

  #settle(outcome: StatusObject): void {
    this.#signal.removeEventListener('abort', this);
    try {
      this.#resolve(this.#answer(outcome));
    } catch (error) {
      this.#reject(error);
    }
  }

  #answer(outcome: StatusObject): ConnectorResult {
    const op = this.#op;
    if (outcome.code !== status.OK || this.#response === undefined) {
      throw statusError(op, outcome, this.#signal, this.#limits);
    }
    let message: object;
    try {
      message = op.decode(this.#response);
    } catch (error) {
      throw new ChorusError(
        'CHORUS_UPSTREAM_DECODE',
        `service "${op.extras.service}" operation "${op.name}" answered a message that does not decode`,
        { cause: error, extras: op.extras },
      );
    }
    const headers = metadataRecord(this.#headers, outcome.metadata);
    return { output: op.withMetadata ? { message, metadata: headers } : message, headers };
  }
}

function passThrough(bytes: Buffer): Buffer {
  return bytes;
}

/** The error of a call that ended without an answer, by its gRPC status. */
function statusError(
  op: GrpcOperation,
  outcome: StatusObject,
  signal: AbortSignal,
  limits: CallLimits,
): Error {
  const code = outcome.code;
  if (code === status.CANCELLED && signal.aborted) return cancellation(op.extras, signal);
  const grpcStatus = STATUS_NAMES.get(code) ?? String(code);
  const grpcMessage = redactAddresses(outcome.details);
  const trailers = metadataRecord(undefined, outcome.metadata);
  const grpc = { grpcCode: code, grpcStatus, grpcMessage };
  const data = { body: { code, status: grpcStatus, message: grpcMessage, metadata: trailers } };
  if (code === status.OK) {
    // An OK status without a message: the server broke the unary contract.
    return new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered no message`,
      { extras: op.extras, data },
    );
  }
  if (code === status.DEADLINE_EXCEEDED) {
    const extras = { ...op.extras, ...grpc };
    return timeoutError(extras, limits.limitMs, limits.deadlineBound, outcome);
  }
  if (code === status.RESOURCE_EXHAUSTED && outcome.details.startsWith('Received message larger than max')) {
    return tooLarge(op.extras, limits.maxResponseBytes);
  }
  if (code === status.UNAVAILABLE) {
    return new ChorusError(
      'CHORUS_UPSTREAM_UNAVAILABLE',
      `service "${op.extras.service}" operation "${op.name}" is unavailable (gRPC UNAVAILABLE)`,
      { cause: outcome, retryable: true, extras: { ...op.extras, ...grpc }, data },
    );
  }
  return new ChorusError(
    'CHORUS_UPSTREAM_PROTOCOL',
    `service "${op.extras.service}" operation "${op.name}" answered gRPC ${grpcStatus}: ${grpcMessage}`,
    { cause: outcome, extras: { ...op.extras, ...grpc }, data },
  );
}

/** grpc-js's own messages for connection failures name the backend's address; clients must not see it. */
function redactAddresses(message: string): string {
  return message
    .replace(/\[[0-9A-Fa-f:.]+\](?::\d+)?/g, '<address>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<address>');
}
