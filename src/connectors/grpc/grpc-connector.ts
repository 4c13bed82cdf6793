/**
 * The `grpc` connector: calls the unary methods of one gRPC service. The .proto files are loaded
 * once at load (@grpc/proto-loader), and one @grpc/grpc-js client — one channel, connected
 * lazily on the first call — serves every call. Messages are serialised and decoded here, not
 * inside grpc-js, so an input that does not fit the request type and an answer that does not
 * decode are told apart from gRPC statuses. The call deadline travels to the server as
 * `grpc-timeout`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ChannelCredentials,
  Client,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type MetadataValue,
  type ServiceError,
  type StatusObject,
  status,
} from '@grpc/grpc-js';
import {
  loadSync,
  type MethodDefinition,
  type PackageDefinition,
  type ServiceDefinition,
} from '@grpc/proto-loader';
import { parseDuration, parseSize } from '../../config/units.ts';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import { ChorusError, type ErrorCode } from '../../errors/catalogue.ts';
import { unknownOperation } from '../call-errors.ts';
import { type JsonSchema, MessageSchemas } from './message-schemas.ts';
import type { GrpcOperationConfig, GrpcServiceConfig } from './schema.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
/** The largest 32-bit signed integer: grpc-js's limit for message sizes, and the clamp of call time limits. */
const MAX_INT32 = 2_147_483_647;

/**
 * How messages map to JSON: field names as in the .proto, 64-bit integers as decimal strings
 * (no precision lost), enums by name, bytes as base64, unset fields with their default value,
 * and each oneof as a property naming the field that is set.
 */
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  oneofs: true,
} as const;

/** Metadata the transport sets itself; sending them from config or input could only break calls. */
const RESERVED_METADATA =
  /^(?:grpc-.*|:.*|content-type|te|host|user-agent|connection|keep-alive|transfer-encoding|upgrade|proxy-connection)$/;

/** gRPC status names by code, for problem documents. */
const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** The public fields every error of one operation carries. */
type OperationExtras = { readonly service: string; readonly operation: string };

type Encode = (message: object) => Buffer;
type Decode = (bytes: Buffer) => object;

/** One method with everything its calls need. */
interface CompiledOperation {
  readonly name: string;
  /** The HTTP/2 path, /package.Service/Method. */
  readonly path: string;
  readonly encode: Encode;
  readonly decode: Decode;
  readonly requestType: string;
  readonly withMetadata: boolean;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `grpc` service, or the issues that keep its config from loading. */
export async function createGrpcConnector(
  config: GrpcServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;

  const timeoutMs = parseDuration(config.timeout ?? DEFAULT_TIMEOUT_MS);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    issues.push({ path: ['timeout'], message: 'the timeout must be a duration above 0, such as "5s"' });
  }
  const maxResponseBytes = parseSize(config.maxResponseBytes);
  if (maxResponseBytes === undefined || maxResponseBytes < 1 || maxResponseBytes > MAX_INT32) {
    issues.push({ path: ['maxResponseBytes'], message: 'expected a size from 1 byte to 2gb, such as "4mb"' });
  }

  const target = parseTarget(config.url);
  const tls = config.tls !== undefined || target.tls === true;
  if (target.tls === false && config.tls !== undefined) {
    issues.push({
      path: ['url'],
      message: 'the url says grpc:// (plaintext) but tls is set; use grpcs:// or host:port',
    });
  }
  const channelCredentials = buildCredentials(tls, config.tls, ctx.baseDir, issues);
  const staticMetadata = buildStaticMetadata(config.metadata, issues);

  const definition = loadProtos(config, ctx.baseDir, issues);
  const serviceDefinition =
    definition === undefined ? undefined : findService(definition, config.service, issues);

  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  if (definition !== undefined && serviceDefinition !== undefined) {
    const schemas = new MessageSchemas(definition);
    const declared =
      Object.keys(config.operations).length > 0 ? config.operations : unaryMethods(serviceDefinition);
    for (const [name, operation] of Object.entries(declared)) {
      const method = serviceDefinition[name];
      if (method === undefined) {
        const known = Object.keys(serviceDefinition).join(', ') || 'none';
        issues.push({
          path: ['operations', name],
          message: `service ${config.service} has no method "${name}" (methods: ${known})`,
        });
        continue;
      }
      if (method.requestStream || method.responseStream) {
        issues.push({
          path: ['operations', name],
          message: `method ${name} streams (${streamingKind(method)}); only unary methods can be called`,
        });
        continue;
      }
      const requestType = fullNameOf(definition, method.requestType);
      const responseType = fullNameOf(definition, method.responseType);
      operations.set(name, {
        name,
        path: method.path,
        encode: method.requestSerialize as Encode,
        decode: method.responseDeserialize as Decode,
        requestType,
        withMetadata: operation.withMetadata,
        extras: Object.freeze({ service, operation: name }),
      });
      descriptions.push(
        Object.freeze(
          describeMethod(
            name,
            operation.summary,
            method,
            requestType,
            responseType,
            operation.withMetadata,
            schemas,
          ),
        ),
      );
    }
  }

  if (
    issues.length > 0 ||
    channelCredentials === undefined ||
    timeoutMs === undefined ||
    maxResponseBytes === undefined
  ) {
    return { issues };
  }

  let client: Client;
  try {
    client = new Client(target.address, channelCredentials, {
      'grpc.max_receive_message_length': maxResponseBytes,
    });
  } catch (error) {
    return {
      issues: [{ path: ['url'], message: `cannot create a gRPC client: ${(error as Error).message}` }],
    };
  }
  return new GrpcConnector(
    service,
    client,
    operations,
    Object.freeze(descriptions),
    staticMetadata,
    maxResponseBytes,
  );
}

/** A live `grpc` connector over one channel. */
class GrpcConnector implements Connector {
  readonly kind = 'grpc';
  readonly service: string;
  readonly #client: Client;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #metadata: Metadata;
  readonly #maxResponseBytes: number;
  #closed = false;

  constructor(
    service: string,
    client: Client,
    operations: ReadonlyMap<string, CompiledOperation>,
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
    try {
      payload = encodeMessage(op, call.input.message);
      metadata = buildCallMetadata(op, this.#metadata, call.headers, call.input.metadata);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = call.signal;
    const limitMs = Math.min(call.timeoutMs, MAX_INT32);
    if (signal.aborted) return Promise.reject(cancellation(op, signal));
    if (limitMs <= 0) return Promise.reject(timeoutError(op, limitMs, call.deadlineBound, undefined));
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

/** What bounds one call: its time limit, which error its expiry is, and the size cap (for messages). */
interface CallLimits {
  readonly limitMs: number;
  readonly deadlineBound: boolean;
  readonly maxResponseBytes: number;
}

/**
 * One call in flight: it wires the caller's signal to cancel the call, collects the response
 * headers, message and status, and settles once with the answer or a coded error.
 */
class UnaryCall {
  readonly #op: CompiledOperation;
  readonly #signal: AbortSignal;
  readonly #limits: CallLimits;
  readonly #resolve: (result: ConnectorResult) => void;
  readonly #reject: (error: unknown) => void;
  #call: ClientUnaryCall | undefined;
  #headers: Metadata | undefined;
  #response: Buffer | undefined;

  constructor(
    op: CompiledOperation,
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

// ---------------------------------------------------------------------------------------------
// Load time

function parseTarget(url: string): { address: string; tls: boolean | undefined } {
  if (url.startsWith('grpcs://')) return { address: url.slice('grpcs://'.length), tls: true };
  if (url.startsWith('grpc://')) return { address: url.slice('grpc://'.length), tls: false };
  return { address: url, tls: undefined };
}

function buildCredentials(
  tls: boolean,
  options: GrpcServiceConfig['tls'],
  baseDir: string,
  issues: ConnectorIssue[],
): ChannelCredentials | undefined {
  if (!tls) return credentials.createInsecure();
  const read = (key: 'ca' | 'cert' | 'key'): Buffer | null => {
    const file = options?.[key];
    if (file === undefined) return null;
    try {
      return readFileSync(path.resolve(baseDir, file));
    } catch (error) {
      issues.push({ path: ['tls', key], message: `cannot read ${key} file "${file}": ${fileError(error)}` });
      return null;
    }
  };
  const before = issues.length;
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  if ((options?.cert === undefined) !== (options?.key === undefined)) {
    issues.push({
      path: ['tls', options?.cert === undefined ? 'cert' : 'key'],
      message: 'mutual TLS needs both cert and key',
    });
  }
  if (issues.length > before) return undefined;
  try {
    return credentials.createSsl(
      ca,
      key,
      cert,
      options?.insecure === true ? { rejectUnauthorized: false } : {},
    );
  } catch (error) {
    issues.push({ path: ['tls'], message: `the TLS files cannot be used: ${(error as Error).message}` });
    return undefined;
  }
}

function buildStaticMetadata(
  entries: Record<string, string> | undefined,
  issues: ConnectorIssue[],
): Metadata {
  const metadata = new Metadata();
  if (entries === undefined) return metadata;
  for (const [key, value] of Object.entries(entries)) {
    const problem = addMetadata(metadata, key, value);
    if (problem !== undefined) issues.push({ path: ['metadata', key], message: problem });
  }
  return metadata;
}

/** Adds one metadata entry, or says why it cannot be sent; `-bin` values are given in base64. */
function addMetadata(metadata: Metadata, key: string, value: string): string | undefined {
  const lower = key.toLowerCase();
  if (RESERVED_METADATA.test(lower)) return `metadata "${lower}" is set by the gRPC transport; remove it`;
  try {
    metadata.add(lower, lower.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Loads the .proto files; a file that cannot be read or parsed is an issue at `proto`. */
function loadProtos(
  config: GrpcServiceConfig,
  baseDir: string,
  issues: ConnectorIssue[],
): PackageDefinition | undefined {
  const files = typeof config.proto === 'string' ? [config.proto] : config.proto;
  const resolved = files.map((file) => path.resolve(baseDir, file));
  let readable = true;
  resolved.forEach((file, index) => {
    try {
      readFileSync(file);
    } catch (error) {
      readable = false;
      issues.push({
        path: typeof config.proto === 'string' ? ['proto'] : ['proto', index],
        message: `cannot read proto file "${files[index]}": ${fileError(error)}`,
      });
    }
  });
  if (!readable) return undefined;
  // Imports are looked up in includeDirs, then beside the declared files (as protoc -I would).
  const includeDirs = [
    ...new Set([
      ...(config.includeDirs ?? []).map((dir) => path.resolve(baseDir, dir)),
      ...resolved.map((file) => path.dirname(file)),
    ]),
  ];
  try {
    // Synchronous on purpose: protobufjs's async loader throws parse errors from an I/O callback,
    // where no caller can catch them; loading happens once, before serving.
    return loadSync(resolved, { ...LOADER_OPTIONS, includeDirs });
  } catch (error) {
    issues.push({ path: ['proto'], message: `cannot load the proto files: ${(error as Error).message}` });
    return undefined;
  }
}

function findService(
  definition: PackageDefinition,
  name: string,
  issues: ConnectorIssue[],
): ServiceDefinition | undefined {
  const entry = definition[name];
  if (entry !== undefined && isService(entry)) return entry;
  const services = Object.keys(definition).filter((key) => isService(definition[key]!));
  issues.push({
    path: ['service'],
    message: `the proto files declare no service "${name}" (services: ${services.join(', ') || 'none'})`,
  });
  return undefined;
}

function isService(entry: PackageDefinition[string]): entry is ServiceDefinition {
  // Message and enum definitions carry a `format`; services are maps of method definitions.
  return !('format' in entry);
}

function unaryMethods(service: ServiceDefinition): Record<string, GrpcOperationConfig> {
  const methods: Record<string, GrpcOperationConfig> = {};
  for (const [name, method] of Object.entries(service)) {
    if (!method.requestStream && !method.responseStream) methods[name] = { withMetadata: false };
  }
  return methods;
}

function streamingKind(method: MethodDefinition<object, object>): string {
  if (method.requestStream && method.responseStream) return 'bidirectional';
  return method.requestStream ? 'client streaming' : 'server streaming';
}

/**
 * The fully qualified name of a method's message type. proto-loader keeps only the short name
 * in its descriptor, so the name is found among the definitions: the one type with that short
 * name, or, when packages share it, the one whose descriptor is the same.
 */
function fullNameOf(
  definition: PackageDefinition,
  type: MethodDefinition<object, object>['requestType'],
): string {
  const short = (type.type as { name: string }).name;
  const candidates = Object.keys(definition).filter((key) => {
    const entry = definition[key]!;
    return 'format' in entry && entry.format === type.format && (key === short || key.endsWith(`.${short}`));
  });
  if (candidates.length <= 1) return candidates[0] ?? short;
  const wanted = JSON.stringify(type.type);
  return (
    candidates.find((key) => JSON.stringify((definition[key] as { type: unknown }).type) === wanted) ??
    candidates[0]!
  );
}

function describeMethod(
  name: string,
  summary: string | undefined,
  method: MethodDefinition<object, object>,
  requestType: string,
  responseType: string,
  withMetadata: boolean,
  schemas: MessageSchemas,
): OperationDescription {
  const message = schemas.schemaOf(requestType);
  const reply = schemas.schemaOf(responseType);
  const metadataSchema: JsonSchema = {
    type: 'object',
    additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  };
  const description: OperationDescription = {
    name,
    // The request message goes in input.message, not path params: nothing for the params check.
    requiredParams: [],
    // A proto says nothing of side effects: never retried unless declared.
    idempotent: false,
    method: method.path,
    requestType,
    responseType,
    inputSchema: { type: 'object', properties: { message, metadata: metadataSchema } },
    outputSchema: withMetadata
      ? {
          type: 'object',
          properties: { message: reply, metadata: metadataSchema },
          required: ['message', 'metadata'],
        }
      : reply,
  };
  if (summary !== undefined) description.summary = summary;
  return description;
}

function fileError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : (error as Error).message;
}

// ---------------------------------------------------------------------------------------------
// Call time

function encodeMessage(op: CompiledOperation, message: unknown): Buffer {
  if (message !== undefined && message !== null && (typeof message !== 'object' || Array.isArray(message))) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.message must be a map`,
    );
  }
  try {
    return op.encode((message ?? {}) as object);
  } catch (error) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.message does not fit ${op.requestType}: ${(error as Error).message}`,
      error,
    );
  }
}

/** Static metadata, then the propagated headers (x-request-id…), then input.metadata. */
function buildCallMetadata(
  op: CompiledOperation,
  base: Metadata,
  propagated: Record<string, string>,
  input: unknown,
): Metadata {
  const metadata = base.clone();
  for (const name of Object.keys(propagated)) {
    const lower = name.toLowerCase();
    if (RESERVED_METADATA.test(lower) || lower.endsWith('-bin')) continue;
    try {
      metadata.set(lower, propagated[name]!);
    } catch {
      // A header that is not valid metadata is not propagated.
    }
  }
  if (input === undefined || input === null) return metadata;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.metadata must be a map`,
    );
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    metadata.remove(key.toLowerCase());
    for (const item of values) {
      const problem =
        typeof item === 'string' || typeof item === 'number'
          ? addMetadata(metadata, key, String(item))
          : 'values must be strings or numbers';
      if (problem !== undefined) {
        throw internal(
          op,
          `operation "${op.name}" of service "${op.extras.service}": input.metadata "${key}": ${problem}`,
        );
      }
    }
  }
  return metadata;
}

/** Response headers and trailers as one record: one value a string, several a list, binary base64. */
function metadataRecord(
  headers: Metadata | undefined,
  trailers: Metadata | undefined,
): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const source of [headers, trailers]) {
    if (source === undefined) continue;
    const entries = source.toJSON() as Record<string, MetadataValue[]>;
    for (const key of Object.keys(entries)) {
      const values = entries[key]!.map((value) =>
        typeof value === 'string' ? value : value.toString('base64'),
      );
      const previous = record[key];
      const merged =
        previous === undefined ? values : [...(Array.isArray(previous) ? previous : [previous]), ...values];
      record[key] = merged.length === 1 ? merged[0]! : merged;
    }
  }
  return record;
}

// ---------------------------------------------------------------------------------------------
// Errors

function statusError(
  op: CompiledOperation,
  outcome: StatusObject,
  signal: AbortSignal,
  limits: CallLimits,
): Error {
  const code = outcome.code;
  if (code === status.CANCELLED && signal.aborted) return cancellation(op, signal);
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
    return timeoutError(op, limits.limitMs, limits.deadlineBound, outcome, grpc);
  }
  if (code === status.RESOURCE_EXHAUSTED && outcome.details.startsWith('Received message larger than max')) {
    return new ChorusError(
      'CHORUS_UPSTREAM_TOO_LARGE',
      `service "${op.extras.service}" operation "${op.name}" answered more than ${limits.maxResponseBytes} bytes (maxResponseBytes)`,
      { extras: op.extras },
    );
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

function internal(op: CompiledOperation, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras: op.extras });
}

function timeoutError(
  op: CompiledOperation,
  limitMs: number,
  deadlineBound: boolean,
  cause: unknown,
  grpc?: Record<string, unknown>,
): ChorusError {
  const code: ErrorCode = deadlineBound ? 'CHORUS_DEADLINE_EXCEEDED' : 'CHORUS_UPSTREAM_TIMEOUT';
  return new ChorusError(
    code,
    `service "${op.extras.service}" operation "${op.name}" did not answer within ${Math.max(0, limitMs)} ms`,
    { cause, retryable: !deadlineBound, extras: grpc === undefined ? op.extras : { ...op.extras, ...grpc } },
  );
}

/** The caller cancelled: its reason is rethrown as it is, since the engine knows why it cancelled. */
function cancellation(op: CompiledOperation, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return internal(op, `service "${op.extras.service}" operation "${op.name}" was cancelled`, reason);
}
