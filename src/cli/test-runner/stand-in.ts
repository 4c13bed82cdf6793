/**
 * The transports' stand-ins of `chorus test`: an undici pool, a NATS connection and a gRPC
 * client that never touch the network. Each call of a connector runs inside `currentCall` (set
 * by the test's connector wrapper, see plan-under-test.ts), which says which declared answer the
 * stand-in gives; the connector builds its request and decodes the answer with its own code.
 */
import { EventEmitter } from 'node:events';
import { type Client, status as grpcStatus, Metadata } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { GraphQLSchema } from 'graphql';
import { type Msg, type NatsConnection, headers as natsHeaders } from 'nats';
import { type Dispatcher, Pool } from 'undici';
import { loadProtos } from '../../connectors/grpc/grpc-operations.ts';
import type { GrpcServiceConfig } from '../../connectors/grpc/schema.ts';
import type { TransportStandIn } from '../../contracts/connector.ts';
import { type CurrentCall, currentCall } from './current-call.ts';
import { runGraphql, type SchemasByEndpoint } from './graphql-schemas.ts';
import { connectAmqpStandIn } from './stand-in-amqp.ts';
import type { DeclaredAnswer } from './test-file.ts';
import { httpWireAnswer, replyBytes, type WireAnswer } from './wire.ts';

/** What the gRPC stand-in needs to encode messages: the services' configs and the config's folder. */
export interface StandInSources {
  readonly grpcServices: (service: string) => GrpcServiceConfig | undefined;
  readonly baseDir: string;
  /** The GraphQL schemas the test file names, by endpoint (origin + path). */
  readonly graphqlSchemas: SchemasByEndpoint;
}

/** The stand-ins, handed to compilePlan. */
export function createStandIn(sources: StandInSources): TransportStandIn {
  const protos = new Map<string, PackageDefinition | undefined>();
  const protoOf = (service: string): PackageDefinition | undefined => {
    if (!protos.has(service)) {
      const config = sources.grpcServices(service);
      protos.set(service, config === undefined ? undefined : loadProtos(config, sources.baseDir, []));
    }
    return protos.get(service);
  };
  return {
    httpPool: (origin) => new StandInPool(origin, sources.graphqlSchemas),
    natsConnect: () => Promise.resolve(new StandInNats() as unknown as NatsConnection),
    grpcClient: () => new StandInGrpc(protoOf) as unknown as Client,
    amqpConnect: connectAmqpStandIn,
  };
}

/** A refused connection, as the transports report it. */
function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED (chorus test: no answer declared)'), {
    code: 'ECONNREFUSED',
  });
}

/** Waits `ms`, or never for a declared timeout (the call's own timer ends it). */
function delay(answer: DeclaredAnswer): Promise<void> {
  if (answer.failure === 'timeout') return new Promise(() => {});
  const ms = answer.latency ?? 0;
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms).unref()) : Promise.resolve();
}

/** undici's handler protocol as Dispatcher.request's handler speaks it. */
interface RequestHandler {
  onConnect?(abort: (reason?: Error) => void): void;
  onHeaders?(status: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[]): void;
  onError?(error: Error): void;
}

/** A pool whose requests are answered from the current call's declared answer. */
class StandInPool extends Pool {
  readonly #origin: string;
  readonly #schemas: SchemasByEndpoint;

  constructor(origin: string, schemas: SchemasByEndpoint) {
    super(origin);
    this.#origin = origin;
    this.#schemas = schemas;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const legacy = handler as unknown as RequestHandler;
    const call = currentCall.getStore();
    let done = false;
    const fail = (error: Error): void => {
      if (done) return;
      done = true;
      legacy.onError?.(error);
    };
    legacy.onConnect?.((reason) => fail(reason ?? new Error('aborted')));
    if (done) return true;
    const schema = this.#schemas.get(this.#origin + options.path.split('?')[0]);
    const body =
      typeof options.body === 'string'
        ? options.body
        : Buffer.isBuffer(options.body)
          ? options.body.toString('utf8')
          : '';
    void answerHttp(call, schema, body).then((wire) => {
      if (done) return;
      if (wire instanceof Error) return fail(wire);
      done = true;
      const raw: Buffer[] = [];
      for (const [name, value] of Object.entries(wire.headers))
        raw.push(Buffer.from(name), Buffer.from(value));
      raw.push(Buffer.from('content-length'), Buffer.from(String(wire.body.length)));
      legacy.onHeaders?.(wire.status, raw, () => {}, 'stand-in');
      if (wire.body.length > 0) legacy.onData?.(wire.body);
      legacy.onComplete?.([]);
    });
    return true;
  }
}

async function answerHttp(
  call: CurrentCall | undefined,
  schema: GraphQLSchema | undefined,
  body: string,
): Promise<WireAnswer | Error> {
  // Outside a call: a graphql connector's load-time introspection, answered from the test's
  // schema; a health check (or an introspection without a schema) gets an empty 200.
  if (call === undefined) {
    if (schema === undefined) return { status: 200, headers: JSON_TYPE, body: Buffer.from('{}') };
    return { status: 200, headers: JSON_TYPE, body: Buffer.from(runGraphql(schema, body, {})) };
  }
  const answer = call.answer;
  if (answer === undefined || answer.failure === 'transport') return refused();
  await delay(answer);
  // Declared data run through the document and the schema: what the schema does not allow is an error, as from the service.
  if (
    call.kind === 'graphql' &&
    schema !== undefined &&
    answer.data !== undefined &&
    answer.errors === undefined
  ) {
    return {
      status: answer.status ?? 200,
      headers: JSON_TYPE,
      body: Buffer.from(runGraphql(schema, body, answer.data)),
    };
  }
  try {
    return httpWireAnswer(call.kind, call.operation, answer);
  } catch (error) {
    return error as Error;
  }
}

const JSON_TYPE: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** A NATS connection answering requests from the current call's declared reply. */
class StandInNats {
  #close: () => void = () => {};
  readonly #closed = new Promise<void>((resolve) => {
    this.#close = resolve;
  });

  async request(subject: string): Promise<Msg> {
    const call = currentCall.getStore();
    const answer = call?.answer;
    if (answer === undefined || answer.failure === 'transport') {
      throw Object.assign(new Error('503'), { code: '503' });
    }
    await delay(answer);
    const data = replyBytes(answer.reply);
    let headers: ReturnType<typeof natsHeaders> | undefined;
    if (answer.headers !== undefined) {
      headers = natsHeaders();
      for (const [name, value] of Object.entries(answer.headers)) headers.set(name, value);
    }
    const text = (): string => Buffer.from(data).toString('utf8');
    return {
      subject,
      sid: 0,
      reply: '',
      data,
      headers,
      respond: () => false,
      string: text,
      json: () => JSON.parse(text()),
    } as unknown as Msg;
  }

  publish(): void {}
  flush(): Promise<void> {
    return Promise.resolve();
  }
  getServer(): string {
    return 'chorus-test-stand-in';
  }
  closed(): Promise<void> {
    return this.#closed;
  }
  close(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }
  /** No status events: the stream ends when the connection closes. */
  status(): AsyncIterable<never> {
    const closed = this.#closed;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => closed.then(() => ({ done: true as const, value: undefined as never })),
      }),
    };
  }
}

type UnaryCallback = (error: Error | null, response?: Buffer) => void;

/** A gRPC client whose unary calls are answered with the declared message, encoded with the proto. */
class StandInGrpc {
  readonly #protoOf: (service: string) => PackageDefinition | undefined;

  constructor(protoOf: (service: string) => PackageDefinition | undefined) {
    this.#protoOf = protoOf;
  }

  makeUnaryRequest(
    path: string,
    _serialize: unknown,
    _deserialize: unknown,
    _payload: Buffer,
    _metadata: Metadata,
    options: { deadline?: number },
    callback: UnaryCallback,
  ): EventEmitter {
    const call = Object.assign(new EventEmitter(), { cancel: () => end(grpcStatus.CANCELLED, 'cancelled') });
    const current = currentCall.getStore();
    let ended = false;
    const end = (code: number, details: string, message?: Buffer): void => {
      if (ended) return;
      ended = true;
      clearTimeout(deadline);
      callback(code === grpcStatus.OK ? null : Object.assign(new Error(details), { code }), message);
      call.emit('metadata', new Metadata());
      call.emit('status', { code, details, metadata: new Metadata() });
    };
    const deadline = setTimeout(
      () => end(grpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'),
      Math.max(0, (options.deadline ?? Date.now() + 10_000) - Date.now()),
    );
    const answer = current?.answer;
    if (current === undefined || answer === undefined || answer.failure === 'transport') {
      queueMicrotask(() => end(grpcStatus.UNAVAILABLE, 'No connection established'));
      return call;
    }
    void delay(answer).then(() => {
      if (answer.grpcStatus !== undefined) return end(answer.grpcStatus.code, answer.grpcStatus.message);
      try {
        end(grpcStatus.OK, 'OK', this.#encode(current.service, path, answer.message ?? {}));
      } catch (error) {
        end(
          grpcStatus.INTERNAL,
          `chorus test: the declared message does not encode: ${(error as Error).message}`,
        );
      }
    });
    return call;
  }

  #encode(service: string, path: string, message: unknown): Buffer {
    const definition = this.#protoOf(service) ?? {};
    for (const entry of Object.values(definition)) {
      for (const method of Object.values(
        entry as Record<string, { path?: string; responseSerialize?: (m: unknown) => Buffer }>,
      )) {
        if (method?.path === path && method.responseSerialize) return method.responseSerialize(message);
      }
    }
    throw new Error(`no method ${path} in the proto files`);
  }

  close(): void {}
}
