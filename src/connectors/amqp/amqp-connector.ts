/**
 * The `amqp` connector: calls backends behind an AMQP 0-9-1 broker (RabbitMQ) by RPC, and
 * publishes events with publisher confirms, through one connection per service made with
 * amqplib. Routing keys, headers and limits are compiled once in createAmqpConnector.
 *
 * RPC uses RabbitMQ's direct reply-to: the RPC channel consumes the `amq.rabbitmq.reply-to`
 * pseudo-queue (no queue to declare or clean up) and every request carries a correlation id; a
 * map from correlation id to the waiting call routes each reply, and a reply nobody waits for any
 * more (its call timed out or was cancelled) is dropped. Requests are published `mandatory`, so
 * one that no queue takes comes back at once as "unavailable" instead of waiting for the timeout.
 * Publishes go through a second, confirm-mode channel and succeed when the broker confirms them.
 *
 * The connection is made in the background; `ready()` stays false until it and both channels
 * are up. When the broker goes away the connection and its channels are made again, with a
 * backoff, and calls waiting on the lost connection fail at once with CHORUS_UPSTREAM_UNAVAILABLE.
 */
import { randomUUID } from 'node:crypto';
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  connect,
  type Message,
  type Options,
} from 'amqplib';
import type { Logger } from 'pino';
import { parseDuration, parseSize } from '../../config/units.ts';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorInput,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import { ChorusError, type ErrorCode } from '../../errors/catalogue.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { closedWithinGrace } from '../../transports/close-grace.ts';
import { type PlaceholderTemplate, parsePlaceholders } from '../../transports/placeholder-template.ts';
import { unknownOperation } from '../call-errors.ts';
import type { AmqpOperationConfig, AmqpServiceConfig } from './schema.ts';

/** setTimeout fires at once (with a warning) above this, so longer limits are clamped to it. */
const MAX_TIMER_MS = 2_147_483_647;
/** How long opening the TCP connection may take. */
const CONNECT_TIMEOUT_MS = 5_000;
/** The longest pause between attempts to connect. */
const MAX_BACKOFF_MS = 2_000;
/** How long close() waits for the broker to acknowledge the close before it lets go. */
/** RabbitMQ's pseudo-queue for replies straight to the requesting channel. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
/** AMQP short strings (routing keys, header names) hold at most 255 bytes. */
const MAX_SHORT_STRING = 255;

/** What a value filled into a routing key may not contain: it must stay one plain word. */
const UNSAFE_WORD = /[\s\p{Cc}.*#]/u;

type Mode = AmqpOperationConfig['mode'];
type HeaderValue = string | number | boolean;

/** The public fields every error of one operation carries. */
// A type alias, not an interface, so it is assignable to ProblemExtras' index signature.
type OperationExtras = { readonly service: string; readonly operation: string };

/** One operation with everything its calls need precomputed. */
interface CompiledOperation {
  readonly name: string;
  readonly mode: Mode;
  readonly exchange: string;
  /** Literal routing key pieces around the placeholders; one more entry than `params`. */
  readonly literals: readonly string[];
  readonly params: readonly string[];
  readonly json: boolean;
  readonly contentType: string;
  readonly persistent: boolean;
  readonly mandatory: boolean;
  /** Service and operation headers merged. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `amqp` service, or the issues that keep its config from loading. */
export async function createAmqpConnector(
  config: AmqpServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;

  let url: URL | undefined;
  try {
    url = new URL(config.url);
    if (url.hostname === '') throw new Error('no host');
  } catch {
    url = undefined;
    issues.push({ path: ['url'], message: `"${redactUrl(config.url)}" is not a valid amqp:// URL` });
  }
  const maxPayloadBytes = parseSize(config.maxPayloadBytes);
  if (maxPayloadBytes === undefined) {
    issues.push({ path: ['maxPayloadBytes'], message: 'expected a size such as 1024, "512kb" or "1mb"' });
  }
  const heartbeatMs = parseDuration(config.heartbeat);
  if (heartbeatMs === undefined) {
    issues.push({ path: ['heartbeat'], message: 'expected a duration such as "10s", or 0 to turn it off' });
  }
  const reconnectWaitMs = parseDuration(config.reconnectWait);
  if (reconnectWaitMs === undefined || reconnectWaitMs <= 0) {
    issues.push({
      path: ['reconnectWait'],
      message: 'reconnectWait must be a duration above 0, such as "250ms"',
    });
  }

  const serviceHeaders = compileHeaders(config.headers, ['headers'], issues);
  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const template = parseKeyTemplate(operation.routingKey);
    if (typeof template === 'string') {
      issues.push({ path: ['operations', name, 'routingKey'], message: template });
      continue;
    }
    if (operation.mode === 'rpc' && operation.mandatory === false) {
      issues.push({
        path: ['operations', name, 'mandatory'],
        message: 'rpc requests are always mandatory (an unroutable request fails at once); remove mandatory',
      });
    }
    const operationHeaders = compileHeaders(operation.headers, ['operations', name, 'headers'], issues);
    operations.set(name, {
      name,
      mode: operation.mode,
      exchange: operation.exchange,
      literals: template.literals,
      params: template.params,
      json: operation.contentType === 'application/json',
      contentType: operation.contentType,
      persistent: operation.persistent,
      mandatory: operation.mode === 'rpc' || operation.mandatory === true,
      headers: Object.freeze({ ...serviceHeaders, ...operationHeaders }),
      extras: Object.freeze({ service, operation: name }),
    });
    const description: OperationDescription = {
      name,
      requiredParams: Object.freeze([...new Set(template.params)]),
      // A message may be handled twice if it is sent twice: never retried unless declared.
      idempotent: false,
      mode: operation.mode,
      exchange: operation.exchange,
      routingKey: operation.routingKey,
    };
    if (operation.summary !== undefined) description.summary = operation.summary;
    descriptions.push(Object.freeze(description));
  }

  if (
    issues.length > 0 ||
    url === undefined ||
    maxPayloadBytes === undefined ||
    heartbeatMs === undefined ||
    reconnectWaitMs === undefined
  ) {
    return { issues };
  }

  // A heartbeat in the url wins; otherwise the configured one (AMQP counts it in whole seconds).
  if (!url.searchParams.has('heartbeat')) {
    url.searchParams.set('heartbeat', String(Math.ceil(heartbeatMs / 1000)));
  }
  const connector = new AmqpConnector({
    service,
    url: url.href,
    shownUrl: redactUrl(url.href),
    reconnectWaitMs,
    operations,
    descriptions: Object.freeze(descriptions),
    maxPayloadBytes,
    logger: ctx.logger,
  });
  connector.start();
  return connector;
}

interface AmqpConnectorParts {
  service: string;
  url: string;
  /** The url without its password, for logs. */
  shownUrl: string;
  reconnectWaitMs: number;
  operations: ReadonlyMap<string, CompiledOperation>;
  descriptions: readonly OperationDescription[];
  maxPayloadBytes: number;
  logger: Logger;
}

/** A live `amqp` connector: one connection with an RPC channel and a confirm channel, kept up in the background. */
class AmqpConnector implements Connector {
  readonly kind = 'amqp';
  readonly service: string;
  readonly #url: string;
  readonly #shownUrl: string;
  readonly #reconnectWaitMs: number;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #maxPayloadBytes: number;
  readonly #logger: Logger;
  /** Calls waiting for a reply or a confirm, by correlation id. */
  readonly #pending = new Map<string, PendingCall>();
  /** Correlation ids are this prefix and a counter: unique per connector, cheap to make. */
  readonly #idPrefix = randomUUID().slice(0, 8) + '.';
  #nextId = 0;
  #model: ChannelModel | undefined;
  #rpc: Channel | undefined;
  #confirm: ConfirmChannel | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #attempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(parts: AmqpConnectorParts) {
    this.service = parts.service;
    this.#url = parts.url;
    this.#shownUrl = parts.shownUrl;
    this.#reconnectWaitMs = parts.reconnectWaitMs;
    this.#operations = parts.operations;
    this.#descriptions = parts.descriptions;
    this.#maxPayloadBytes = parts.maxPayloadBytes;
    this.#logger = parts.logger;
  }

  /** Starts connecting in the background; retried with a backoff until it succeeds. */
  start(): void {
    this.#retryTimer = undefined;
    if (this.#closing) return;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    let model: ChannelModel | undefined;
    try {
      model = await connect(this.#url, {
        timeout: CONNECT_TIMEOUT_MS,
        clientProperties: { connection_name: `chorus:${this.service}` },
      });
      if (this.#closing) {
        await model.close().catch(ignoreError);
        return;
      }
      const current = model;
      model.on('error', (error: unknown) => {
        this.#logger.warn(
          { service: this.service, reason: describeError(error) },
          'amqp connector: connection error',
        );
      });
      model.on('close', () => this.#connectionClosed(current));
      model.on('blocked', (reason: unknown) => {
        this.#logger.warn(
          { service: this.service, reason: String(reason) },
          'amqp connector: the broker blocks publishing',
        );
      });
      model.on('unblocked', () =>
        this.#logger.info({ service: this.service }, 'amqp connector: publishing unblocked'),
      );
      this.#model = model;
      await Promise.all([this.#openRpcChannel(model), this.#openConfirmChannel(model)]);
      this.#attempts = 0;
      this.#logger.info({ service: this.service, url: this.#shownUrl }, 'amqp connector: connected');
    } catch (error) {
      if (model !== undefined) {
        if (this.#model === model) {
          this.#model = undefined;
          this.#rpc = undefined;
          this.#confirm = undefined;
        }
        model.removeAllListeners('close');
        model.on('error', ignoreError);
        await model.close().catch(ignoreError);
      }
      this.#retryLater(error);
    }
  }

  #retryLater(error: unknown): void {
    if (this.#closing || this.#retryTimer !== undefined) return;
    this.#attempts++;
    const fields = { service: this.service, url: this.#shownUrl, reason: describeError(error) };
    // Once loudly, then quietly: a broker that stays down must not flood the log.
    if (this.#attempts === 1) this.#logger.warn(fields, 'amqp connector: cannot connect; retrying');
    else this.#logger.debug({ ...fields, attempt: this.#attempts }, 'amqp connector: still cannot connect');
    const wait = Math.min(MAX_BACKOFF_MS, this.#reconnectWaitMs * 2 ** Math.min(this.#attempts - 1, 8));
    this.#retryTimer = setTimeout(() => this.start(), wait);
  }

  #connectionClosed(model: ChannelModel): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    this.#rpc = undefined;
    this.#confirm = undefined;
    this.#failAll('the connection to the broker was lost');
    if (this.#closing) return;
    this.#logger.warn({ service: this.service }, 'amqp connector: connection lost; reconnecting');
    this.#retryLater(new Error('connection closed'));
  }

  /** The channel for RPC: it consumes the direct reply-to pseudo-queue and publishes the requests. */
  async #openRpcChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    this.#watchChannel(model, channel, 'rpc');
    channel.on('return', (message: Message) => this.#returned(message));
    // Replies are consumed without acks: direct reply-to requires it, and a reply is used once.
    await channel.consume(DIRECT_REPLY_TO, (message) => this.#replied(message), { noAck: true });
    if (this.#model === model) this.#rpc = channel;
  }

  /** The channel for publish operations, in confirm mode. */
  async #openConfirmChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    this.#watchChannel(model, channel, 'publish');
    channel.on('return', (message: Message) => this.#returned(message));
    if (this.#model === model) this.#confirm = channel;
  }

  /**
   * A channel the broker closes while the connection lives (e.g. a publish to an exchange that
   * does not exist) fails the calls waiting on it and is opened again.
   */
  #watchChannel(model: ChannelModel, channel: Channel, mode: Mode): void {
    let reason = 'the broker closed the channel';
    channel.on('error', (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      reason = `the broker closed the channel${typeof code === 'number' ? ` (${code})` : ''}`;
      this.#logger.warn(
        { service: this.service, reason: describeError(error) },
        'amqp connector: channel closed by the broker',
      );
    });
    channel.on('close', () => {
      if (mode === 'rpc' ? this.#rpc !== channel : this.#confirm !== channel) return;
      if (mode === 'rpc') this.#rpc = undefined;
      else this.#confirm = undefined;
      this.#failMode(mode, reason);
      // When the whole connection went, its close event comes right after the channels': by the
      // next turn it has been handled, and only a channel lost on a live connection is reopened.
      setImmediate(() => {
        if (this.#closing || this.#model !== model) return;
        const reopen = mode === 'rpc' ? this.#openRpcChannel(model) : this.#openConfirmChannel(model);
        reopen.catch((error: unknown) => {
          this.#logger.warn(
            { service: this.service, reason: describeError(error) },
            'amqp connector: cannot reopen a channel; reconnecting',
          );
          // Closing the connection makes its close event reconnect everything.
          if (this.#model === model) void model.close().catch(ignoreError);
        });
      });
    });
  }

  #replied(message: Message | null): void {
    if (message === null) return; // the broker cancelled the consumer; the channel is closing
    const id = message.properties.correlationId as unknown;
    const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
    if (pending === undefined || pending.op.mode !== 'rpc') {
      this.#logger.debug(
        { service: this.service, correlationId: id },
        'amqp connector: late or unknown reply dropped',
      );
      return;
    }
    pending.resolve(message);
  }

  /** A mandatory message no queue took: the broker sends it back before confirming it. */
  #returned(message: Message): void {
    const id = message.properties.correlationId as unknown;
    const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
    if (pending === undefined) return;
    pending.fail(
      new ChorusError(
        'CHORUS_UPSTREAM_UNAVAILABLE',
        `service "${pending.op.extras.service}" operation "${pending.op.name}": no queue took the message (nothing is bound to its routing key)`,
        { retryable: true, extras: { ...pending.op.extras, reason: 'unroutable' } },
      ),
    );
  }

  #failAll(reason: string): void {
    for (const pending of [...this.#pending.values()]) pending.fail(unavailable(pending.op, reason));
  }

  #failMode(mode: Mode, reason: string): void {
    for (const pending of [...this.#pending.values()]) {
      if (pending.op.mode === mode) pending.fail(unavailable(pending.op, reason));
    }
  }

  async call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    const input = call.input;
    const routingKey = buildRoutingKey(op, input.params);
    const headers = buildHeaders(op, call.headers, input.headers);
    const content = encodeBody(op, input.body);

    const limitMs = Math.min(call.timeoutMs, MAX_TIMER_MS);
    const signal = call.signal;
    if (signal.aborted) throw cancellation(op, signal);
    if (limitMs <= 0) throw timeoutError(op, limitMs, call.deadlineBound);
    const channel = op.mode === 'rpc' ? this.#rpc : this.#confirm;
    if (channel === undefined || this.#model === undefined) {
      throw unavailable(op, this.#closing ? 'the connector is closed' : 'not connected to the broker');
    }

    const id = this.#idPrefix + (++this.#nextId).toString(36);
    const pending = new PendingCall(op, id, signal, limitMs, call.deadlineBound, this.#pending);
    const options: Options.Publish = {
      correlationId: id,
      contentType: op.contentType,
      headers,
      persistent: op.persistent,
      mandatory: op.mandatory,
    };
    if (op.mode === 'rpc') {
      options.replyTo = DIRECT_REPLY_TO;
      // A request still queued when its caller has given up is dropped by the broker, unworked.
      options.expiration = String(Math.ceil(limitMs));
    }
    try {
      if (op.mode === 'rpc') channel.publish(op.exchange, routingKey, content, options);
      else (channel as ConfirmChannel).publish(op.exchange, routingKey, content, options, pending.confirmed);
    } catch (error) {
      // amqplib throws when the channel closed in the meantime.
      pending.fail(unavailable(op, `the channel is closed (${describeError(error)})`));
    }
    const outcome = await pending.promise;
    if (op.mode === 'publish') return { output: { published: true, exchange: op.exchange, routingKey } };
    return decodeReply(op, outcome as Message, this.#maxPayloadBytes, call.raw === true);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  ready(): boolean {
    return (
      !this.#closing && this.#model !== undefined && this.#rpc !== undefined && this.#confirm !== undefined
    );
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    const model = this.#model;
    this.#model = undefined;
    this.#rpc = undefined;
    this.#confirm = undefined;
    this.#failAll('the connector is closed');
    if (model === undefined) return;
    await closedWithinGrace(model.close());
  }
}

/**
 * One call waiting for its reply (or confirm): settled by the answer, its timer, the caller's
 * signal, a returned message or a lost connection, whichever comes first; it leaves the pending
 * map then, so anything arriving later for its correlation id is dropped. It is its own abort
 * listener (handleEvent) and the timer gets it as an argument.
 */
class PendingCall {
  readonly op: CompiledOperation;
  readonly promise: Promise<unknown>;
  /** The confirm callback of a publish: acked, or nacked / channel closed. */
  readonly confirmed: (error: unknown) => void;
  #settle!: (value: unknown) => void;
  #reject!: (error: unknown) => void;
  #done = false;
  readonly #id: string;
  readonly #signal: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #limitMs: number;
  readonly #deadlineBound: boolean;
  readonly #registry: Map<string, PendingCall>;

  constructor(
    op: CompiledOperation,
    id: string,
    signal: AbortSignal,
    limitMs: number,
    deadlineBound: boolean,
    registry: Map<string, PendingCall>,
  ) {
    this.op = op;
    this.promise = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#reject = reject;
    });
    this.confirmed = (error) => {
      if (error === null || error === undefined) this.resolve(undefined);
      else {
        const reason =
          error instanceof Error && error.message === 'message nacked'
            ? 'the broker refused the message (nack)'
            : 'the channel closed before the broker confirmed the message';
        this.fail(unavailable(op, reason));
      }
    };
    this.#id = id;
    this.#signal = signal;
    this.#limitMs = limitMs;
    this.#deadlineBound = deadlineBound;
    this.#registry = registry;
    registry.set(id, this);
    signal.addEventListener('abort', this, { once: true });
    this.#timer = setTimeout(expire, limitMs, this);
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.fail(cancellation(this.op, this.#signal));
  }

  expire(): void {
    this.fail(timeoutError(this.op, this.#limitMs, this.#deadlineBound));
  }

  resolve(value: unknown): void {
    if (this.#finish()) this.#settle(value);
  }

  fail(error: Error): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#signal.removeEventListener('abort', this);
    this.#registry.delete(this.#id);
    return true;
  }
}

function expire(pending: PendingCall): void {
  pending.expire();
}

function ignoreError(): void {}

// ---------------------------------------------------------------------------------------------
// Load time

/** Splits a routing key into literal pieces and {name} placeholders. */
function parseKeyTemplate(key: string): PlaceholderTemplate | string {
  const parsed = parsePlaceholders(key, `routing key "${key}"`);
  if (typeof parsed === 'string') return parsed;
  const { literals } = parsed;
  if (literals.some((literal) => /[\s\p{Cc}]/u.test(literal))) {
    return `routing key "${key}" has whitespace or control characters`;
  }
  if (Buffer.byteLength(literals.join('')) > MAX_SHORT_STRING) {
    return `routing key "${key}" is longer than ${MAX_SHORT_STRING} bytes`;
  }
  return parsed;
}

function compileHeaders(
  headers: Record<string, HeaderValue> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
): Record<string, HeaderValue> {
  const compiled: Record<string, HeaderValue> = {};
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    if (Buffer.byteLength(name) > MAX_SHORT_STRING) {
      issues.push({ path: [...path, name], message: `header names hold at most ${MAX_SHORT_STRING} bytes` });
    } else compiled[name] = value;
  }
  return compiled;
}

/** The URL without its password, as it may be logged or shown. */
function redactUrl(url: string): string {
  return url.replace(/^(amqps?:\/\/)([^:@/]*):[^@/]*@/, '$1$2:***@');
}

// ---------------------------------------------------------------------------------------------
// Call time

function buildRoutingKey(op: CompiledOperation, params: ConnectorInput['params']): string {
  const names = op.params;
  let key = op.literals[0]!;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const value = params === undefined || params === null ? undefined : params[name];
    key += keyWord(op, name, value) + op.literals[index + 1]!;
  }
  if (names.length > 0 && Buffer.byteLength(key) > MAX_SHORT_STRING) {
    throw validation(op, 'params', `the routing key would be longer than ${MAX_SHORT_STRING} bytes`);
  }
  return key;
}

function keyWord(op: CompiledOperation, name: string, value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
  if (text === undefined) {
    const problem = value === undefined || value === null ? 'is missing' : 'is not a string or number';
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": routing key param "${name}" ${problem} in input.params`,
    );
  }
  // A "." adds words a topic exchange matches on, "*" and "#" are binding wildcards: a value with
  // them could reach other queues. Such values come from request data: the client's error.
  if (text === '' || UNSAFE_WORD.test(text)) {
    const problem = text === '' ? 'cannot be empty' : 'cannot contain ".", "*", "#" or whitespace';
    throw validation(op, `params.${name}`, problem, `routing key parameter "${name}"`);
  }
  return text;
}

/** Static headers, then the propagated ones, then input.headers (later ones win). */
function buildHeaders(
  op: CompiledOperation,
  propagated: Record<string, string>,
  inputHeaders: unknown,
): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = { ...op.headers };
  for (const name of Object.keys(propagated)) headers[name] = propagated[name]!;
  if (inputHeaders === undefined || inputHeaders === null) return headers;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.headers must be an object`,
    );
  }
  const record = inputHeaders as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw internal(
        op,
        `operation "${op.name}" of service "${op.extras.service}": input header "${name}" must be a string, number or boolean`,
      );
    }
    if (Buffer.byteLength(name) > MAX_SHORT_STRING) {
      throw internal(
        op,
        `operation "${op.name}" of service "${op.extras.service}": input header name "${name.slice(0, 40)}…" is too long`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

/** input.body as the message body: JSON for application/json, the string itself for text/plain. */
function encodeBody(op: CompiledOperation, body: unknown): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (!op.json) {
    if (typeof body === 'string') return Buffer.from(body, 'utf8');
    if (body === null) return Buffer.alloc(0);
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.body must be a string (contentType: text/plain)`,
    );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.body cannot be serialised as JSON`,
      error,
    );
  }
  return json === undefined ? Buffer.alloc(0) : Buffer.from(json, 'utf8');
}

/** The reply's body, read by its content type (or the operation's when it has none). */
function decodeReply(
  op: CompiledOperation,
  message: Message,
  maxBytes: number,
  forwardOnly: boolean,
): ConnectorResult {
  const content = message.content;
  if (content.length > maxBytes) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_TOO_LARGE',
      `service "${op.extras.service}" operation "${op.name}" answered more than ${maxBytes} bytes (maxPayloadBytes)`,
      { extras: op.extras },
    );
  }
  const contentType = message.properties.contentType as unknown;
  const json = typeof contentType === 'string' && contentType !== '' ? isJsonMediaType(contentType) : op.json;
  if (!json) return { output: content.toString('utf8') };
  if (content.length === 0) return { output: null };
  if (forwardOnly) return { output: undefined, raw: content };
  try {
    return { output: parseUntrustedJson(content.toString('utf8')) };
  } catch (error) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered malformed JSON`,
      { cause: error, extras: op.extras },
    );
  }
}

function isJsonMediaType(contentType: string): boolean {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

// ---------------------------------------------------------------------------------------------
// Errors

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // Socket errors carry an address in their message; their code says enough.
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}

function internal(op: CompiledOperation, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras: op.extras });
}

function validation(
  op: CompiledOperation,
  field: string,
  problem: string,
  what = 'the routing key',
): ChorusError {
  return new ChorusError(
    'CHORUS_VALIDATION_FAILED',
    `${what} of ${op.extras.service}.${op.name} ${problem}`,
    {
      extras: { ...op.extras, errors: [{ field, message: problem }] },
    },
  );
}

function unavailable(op: CompiledOperation, reason: string): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_UNAVAILABLE',
    `service "${op.extras.service}" operation "${op.name}": ${reason}`,
    { retryable: true, extras: op.extras },
  );
}

function timeoutError(op: CompiledOperation, limitMs: number, deadlineBound: boolean): ChorusError {
  const code: ErrorCode = deadlineBound ? 'CHORUS_DEADLINE_EXCEEDED' : 'CHORUS_UPSTREAM_TIMEOUT';
  return new ChorusError(
    code,
    `service "${op.extras.service}" operation "${op.name}" did not answer within ${Math.max(0, limitMs)} ms`,
    { retryable: !deadlineBound, extras: op.extras },
  );
}

/** The caller cancelled: its reason is rethrown as it is, since the engine knows why it cancelled. */
function cancellation(op: CompiledOperation, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return internal(op, `service "${op.extras.service}" operation "${op.name}" was cancelled`, reason);
}
