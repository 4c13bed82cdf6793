/**
 * The connection of one `amqp` service and its two channels, kept up in the background: the RPC
 * channel consumes RabbitMQ's direct reply-to pseudo-queue and routes each reply, by correlation
 * id, to the call waiting for it; the confirm channel carries publishes. A channel the broker
 * closes is opened again; a lost connection is made again with a backoff, and the calls waiting
 * on what was lost fail at once as unavailable.
 */
import { type Channel, type ChannelModel, type ConfirmChannel, connect, type Message } from 'amqplib';
import type { Logger } from 'pino';
import { ChorusError } from '../../errors/catalogue.ts';
import { closedWithinGrace } from '../../transports/close-grace.ts';
import { ConnectBackoff } from '../messaging/connect-backoff.ts';
import type { PendingReplies } from '../messaging/pending-replies.ts';
import type { AmqpOperation } from './amqp-operations.ts';

/** How long opening the TCP connection may take. */
const CONNECT_TIMEOUT_MS = 5_000;
/** RabbitMQ's pseudo-queue for replies straight to the requesting channel. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

type Mode = AmqpOperation['mode'];

export interface AmqpLinkParts {
  service: string;
  url: string;
  /** The url without its password, for logs. */
  shownUrl: string;
  reconnectWaitMs: number;
  /** The calls waiting for a reply or a confirm, by correlation id. */
  pending: PendingReplies<AmqpOperation>;
  logger: Logger;
  /** amqplib's connect, or the stand-in of `chorus test` (ConnectorFactoryContext.standIn). */
  connect?: ((url: string, options: object) => Promise<ChannelModel>) | undefined;
}

/** One connection to the broker with an RPC channel and a confirm channel, kept up in the background. */
export class AmqpLink {
  readonly #service: string;
  readonly #url: string;
  readonly #shownUrl: string;
  readonly #pending: PendingReplies<AmqpOperation>;
  readonly #logger: Logger;
  readonly #backoff: ConnectBackoff;
  readonly #open: (url: string, options: object) => Promise<ChannelModel>;
  #model: ChannelModel | undefined;
  #rpc: Channel | undefined;
  #confirm: ConfirmChannel | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(parts: AmqpLinkParts) {
    this.#service = parts.service;
    this.#url = parts.url;
    this.#shownUrl = parts.shownUrl;
    this.#pending = parts.pending;
    this.#logger = parts.logger;
    this.#backoff = new ConnectBackoff('amqp', parts.reconnectWaitMs, parts.logger);
    this.#open = parts.connect ?? connect;
  }

  /** The channel calls of a mode publish on while the connection is up; undefined otherwise. */
  channel(mode: Mode): Channel | ConfirmChannel | undefined {
    if (this.#model === undefined) return undefined;
    return mode === 'rpc' ? this.#rpc : this.#confirm;
  }

  /** Whether close() was called. */
  get closing(): boolean {
    return this.#closing;
  }

  ready(): boolean {
    return (
      !this.#closing && this.#model !== undefined && this.#rpc !== undefined && this.#confirm !== undefined
    );
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
      model = await this.#open(this.#url, {
        timeout: CONNECT_TIMEOUT_MS,
        clientProperties: { connection_name: `chorus:${this.#service}` },
      });
      if (this.#closing) {
        await model.close().catch(ignoreError);
        return;
      }
      this.#watchConnection(model);
      this.#model = model;
      await Promise.all([this.#openRpcChannel(model), this.#openConfirmChannel(model)]);
      this.#backoff.succeeded();
      this.#logger.info({ service: this.#service, url: this.#shownUrl }, 'amqp connector: connected');
    } catch (error) {
      if (model !== undefined) {
        if (this.#model === model) this.#forget();
        model.removeAllListeners('close');
        model.on('error', ignoreError);
        await model.close().catch(ignoreError);
      }
      this.#retryLater(error);
    }
  }

  #watchConnection(model: ChannelModel): void {
    const service = this.#service;
    model.on('error', (error: unknown) => {
      this.#logger.warn({ service, reason: describeError(error) }, 'amqp connector: connection error');
    });
    model.on('close', () => this.#connectionClosed(model));
    model.on('blocked', (reason: unknown) => {
      this.#logger.warn({ service, reason: String(reason) }, 'amqp connector: the broker blocks publishing');
    });
    model.on('unblocked', () => this.#logger.info({ service }, 'amqp connector: publishing unblocked'));
  }

  #forget(): void {
    this.#model = undefined;
    this.#rpc = undefined;
    this.#confirm = undefined;
  }

  #retryLater(error: unknown): void {
    if (this.#closing || this.#retryTimer !== undefined) return;
    const wait = this.#backoff.failed({
      service: this.#service,
      url: this.#shownUrl,
      reason: describeError(error),
    });
    this.#retryTimer = setTimeout(() => this.start(), wait);
  }

  #connectionClosed(model: ChannelModel): void {
    if (this.#model !== model) return;
    this.#forget();
    this.#pending.failAll('the connection to the broker was lost');
    if (this.#closing) return;
    this.#logger.warn({ service: this.#service }, 'amqp connector: connection lost; reconnecting');
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
        { service: this.#service, reason: describeError(error) },
        'amqp connector: channel closed by the broker',
      );
    });
    channel.on('close', () => {
      if (mode === 'rpc' ? this.#rpc !== channel : this.#confirm !== channel) return;
      if (mode === 'rpc') this.#rpc = undefined;
      else this.#confirm = undefined;
      this.#pending.failAll(reason, mode);
      // When the whole connection went, its close event comes right after the channels': by the
      // next turn it has been handled, and only a channel lost on a live connection is reopened.
      setImmediate(() => this.#reopen(model, mode));
    });
  }

  #reopen(model: ChannelModel, mode: Mode): void {
    if (this.#closing || this.#model !== model) return;
    const reopen = mode === 'rpc' ? this.#openRpcChannel(model) : this.#openConfirmChannel(model);
    reopen.catch((error: unknown) => {
      this.#logger.warn(
        { service: this.#service, reason: describeError(error) },
        'amqp connector: cannot reopen a channel; reconnecting',
      );
      // Closing the connection makes its close event reconnect everything.
      if (this.#model === model) void model.close().catch(ignoreError);
    });
  }

  #replied(message: Message | null): void {
    if (message === null) return; // the broker cancelled the consumer; the channel is closing
    const id = message.properties.correlationId as unknown;
    const pending = typeof id === 'string' ? this.#pending.byId(id) : undefined;
    if (pending === undefined || pending.op.mode !== 'rpc') {
      this.#logger.debug(
        { service: this.#service, correlationId: id },
        'amqp connector: late or unknown reply dropped',
      );
      return;
    }
    pending.resolve(message);
  }

  /** A mandatory message no queue took: the broker sends it back before confirming it. */
  #returned(message: Message): void {
    const id = message.properties.correlationId as unknown;
    const pending = typeof id === 'string' ? this.#pending.byId(id) : undefined;
    if (pending === undefined) return;
    const { extras } = pending.op;
    pending.fail(
      new ChorusError(
        'CHORUS_UPSTREAM_UNAVAILABLE',
        `service "${extras.service}" operation "${extras.operation}": no queue took the message (nothing is bound to its routing key)`,
        { retryable: true, extras: { ...extras, reason: 'unroutable' } },
      ),
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
    this.#forget();
    this.#pending.failAll('the connector is closed');
    if (model === undefined) return;
    await closedWithinGrace(model.close());
  }
}

/** An error for logs: its code when it has one (socket errors carry an address in their message). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}

function ignoreError(): void {}
