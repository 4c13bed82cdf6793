/**
 * The connection of one `nats` service, kept up in the background. It is made without blocking
 * loading and retried until the first one is up; after that the client reconnects by itself
 * (forever, every `reconnectWait`). Whenever the connection goes away, the calls waiting on it
 * fail at once as unavailable instead of waiting for their timeout.
 */
import { type ConnectionOptions, connect, Events, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { errorCode } from '../../errors/call-errors.ts';
import { closedWithinGrace } from '../../transports/close-grace.ts';
import { ConnectBackoff } from '../messaging/connect-backoff.ts';
import type { PendingReplies } from '../messaging/pending-replies.ts';
import type { NatsOperation } from './nats-operations.ts';

export interface NatsLinkParts {
  service: string;
  options: ConnectionOptions;
  /** The client's connect, or the stand-in of `chorus test` (ConnectorFactoryContext.standIn). */
  connect?: ((options: ConnectionOptions) => Promise<NatsConnection>) | undefined;
  /** The server URLs without credentials, for logs. */
  shownServers: string;
  reconnectWaitMs: number;
  /** The calls waiting on the connection, failed when it goes away. */
  pending: PendingReplies<NatsOperation>;
  logger: Logger;
}

/** One connection to the NATS servers of a service, kept up in the background. */
export class NatsLink {
  readonly #service: string;
  readonly #options: ConnectionOptions;
  readonly #connect: (options: ConnectionOptions) => Promise<NatsConnection>;
  readonly #shownServers: string;
  readonly #pending: PendingReplies<NatsOperation>;
  readonly #logger: Logger;
  readonly #backoff: ConnectBackoff;
  #nc: NatsConnection | undefined;
  /** Whether the connection is up now (false while the client reconnects). */
  #connected = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(parts: NatsLinkParts) {
    this.#service = parts.service;
    this.#options = parts.options;
    this.#connect = parts.connect ?? connect;
    this.#shownServers = parts.shownServers;
    this.#pending = parts.pending;
    this.#logger = parts.logger;
    this.#backoff = new ConnectBackoff('nats', parts.reconnectWaitMs, parts.logger);
  }

  /** The client while the connection is up; undefined while connecting, reconnecting or closed. */
  get client(): NatsConnection | undefined {
    return this.#connected ? this.#nc : undefined;
  }

  /** Whether close() was called. */
  get closing(): boolean {
    return this.#closing;
  }

  ready(): boolean {
    return this.#connected && !this.#closing;
  }

  /** Starts connecting in the background; the first connection is retried until it succeeds. */
  start(): void {
    this.#retryTimer = undefined;
    if (this.#closing) return;
    this.#connect(this.#options).then(
      (nc) => this.#attach(nc),
      (error: unknown) => this.#retryLater(error),
    );
  }

  #retryLater(error: unknown): void {
    if (this.#closing) return;
    const wait = this.#backoff.failed({
      service: this.#service,
      servers: this.#shownServers,
      reason: errorCode(error),
    });
    this.#retryTimer = setTimeout(() => this.start(), wait);
  }

  #attach(nc: NatsConnection): void {
    if (this.#closing) {
      void nc.close().catch(ignoreError);
      return;
    }
    this.#nc = nc;
    this.#connected = true;
    this.#backoff.succeeded();
    this.#logger.info({ service: this.#service, server: nc.getServer() }, 'nats connector: connected');
    void this.#watch(nc);
    void nc.closed().then((error) => {
      if (this.#nc !== nc) return;
      this.#nc = undefined;
      this.#lost('the connection to the NATS server closed');
      if (this.#closing) return;
      // The client gave up (e.g. refused credentials): start over, as for the first connection.
      this.#logger.warn(
        { service: this.#service, reason: errorCode(error) },
        'nats connector: connection closed; connecting again',
      );
      this.#retryLater(error);
    });
  }

  /** Follows the client's status events: readiness goes down on a disconnect, up on a reconnect. */
  async #watch(nc: NatsConnection): Promise<void> {
    const service = this.#service;
    try {
      for await (const status of nc.status()) {
        if (this.#nc !== nc) return;
        if (status.type === Events.Disconnect) {
          this.#logger.warn({ service }, 'nats connector: disconnected; reconnecting');
          this.#lost('the NATS server connection was lost');
        } else if (status.type === Events.Reconnect) {
          this.#connected = true;
          this.#logger.info({ service, server: nc.getServer() }, 'nats connector: reconnected');
        } else if (status.type === Events.Error) {
          this.#logger.warn({ service, reason: String(status.data) }, 'nats connector: error');
        }
      }
    } catch (error) {
      this.#logger.debug({ service, err: error }, 'nats connector: status stream ended');
    }
  }

  /** The connection went away: calls waiting on it cannot be answered through it any more. */
  #lost(reason: string): void {
    this.#connected = false;
    this.#pending.failAll(reason);
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    const nc = this.#nc;
    this.#nc = undefined;
    this.#lost('the connector is closed');
    if (nc === undefined) return;
    await closedWithinGrace(nc.close());
  }
}

function ignoreError(): void {}
