/**
 * The `amqp` connector: calls backends behind an AMQP 0-9-1 broker (RabbitMQ) by RPC, and
 * publishes events with publisher confirms, through one connection per service made with
 * amqplib (amqp-connection.ts). Routing keys, headers and limits are compiled once in
 * createAmqpConnector.
 *
 * RPC uses RabbitMQ's direct reply-to: every request carries a correlation id, and the reply is
 * routed to the call waiting for it; a reply nobody waits for any more (its call timed out or was
 * cancelled) is dropped. Requests are published `mandatory`, so one that no queue takes comes
 * back at once as "unavailable" instead of waiting for the timeout. Publishes go through a
 * confirm-mode channel and succeed when the broker confirms them.
 *
 * `ready()` stays false until the connection and both channels are up; while they are away,
 * calls fail at once with CHORUS_UPSTREAM_UNAVAILABLE.
 */
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Message, Options } from 'amqplib';
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
import { callLimit } from '../../transports/call-limit.ts';
import { unavailable } from '../messaging/broker-errors.ts';
import { PendingReplies, PendingReply } from '../messaging/pending-replies.ts';
import { AmqpLink, DIRECT_REPLY_TO, describeError } from './amqp-connection.ts';
import { buildHeaders, buildRoutingKey, decodeReply, encodeBody } from './amqp-message.ts';
import { type AmqpOperation, compileOperations } from './amqp-operations.ts';
import type { AmqpServiceConfig } from './schema.ts';

/** Creates the connector of one `amqp` service, or the issues that keep its config from loading. */
export async function createAmqpConnector(
  config: AmqpServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;
  const url = readUrl(config.url, issues);
  // Sizes and durations are numbers already (the schema parsed them); only ranges are checked here.
  const maxPayloadBytes = config.maxPayloadBytes;
  const heartbeatMs = config.heartbeat;
  const reconnectWaitMs = config.reconnectWait;
  if (reconnectWaitMs <= 0) {
    issues.push({
      path: ['reconnectWait'],
      message: 'reconnectWait must be a duration above 0, such as "250ms"',
    });
  }
  const { operations, descriptions } = compileOperations(config, service, issues);
  if (issues.length > 0 || url === undefined) {
    return { issues };
  }

  // A heartbeat in the url wins; otherwise the configured one (AMQP counts it in whole seconds).
  if (!url.searchParams.has('heartbeat')) {
    url.searchParams.set('heartbeat', String(Math.ceil(heartbeatMs / 1000)));
  }
  const pending = new PendingReplies<AmqpOperation>();
  const link = new AmqpLink({
    service,
    url: url.href,
    shownUrl: redactUrl(url.href),
    reconnectWaitMs,
    pending,
    logger: ctx.logger,
    connect: ctx.standIn?.amqpConnect,
  });
  link.start();
  return new AmqpConnector(service, link, pending, operations, descriptions, maxPayloadBytes);
}

function readUrl(text: string, issues: ConnectorIssue[]): URL | undefined {
  try {
    const url = new URL(text);
    if (url.hostname === '') throw new Error('no host');
    return url;
  } catch {
    issues.push({ path: ['url'], message: `"${redactUrl(text)}" is not a valid amqp:// URL` });
    return undefined;
  }
}

/** The URL without its password, as it may be logged or shown. */
function redactUrl(url: string): string {
  return url.replace(/^(amqps?:\/\/)([^:@/]*):[^@/]*@/, '$1$2:***@');
}

/** A live `amqp` connector: its calls go through the service's one connection. */
class AmqpConnector implements Connector {
  readonly kind = 'amqp';
  readonly service: string;
  readonly #link: AmqpLink;
  /** Calls waiting for a reply or a confirm, by correlation id. */
  readonly #pending: PendingReplies<AmqpOperation>;
  readonly #operations: ReadonlyMap<string, AmqpOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #maxPayloadBytes: number;
  /** Correlation ids are this prefix and a counter: unique per connector, cheap to make. */
  readonly #idPrefix = randomUUID().slice(0, 8) + '.';
  #nextId = 0;

  constructor(
    service: string,
    link: AmqpLink,
    pending: PendingReplies<AmqpOperation>,
    operations: ReadonlyMap<string, AmqpOperation>,
    descriptions: readonly OperationDescription[],
    maxPayloadBytes: number,
  ) {
    this.service = service;
    this.#link = link;
    this.#pending = pending;
    this.#operations = operations;
    this.#descriptions = descriptions;
    this.#maxPayloadBytes = maxPayloadBytes;
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

    const limitMs = callLimit(call, op.extras);
    const channel = this.#link.channel(op.mode);
    if (channel === undefined) {
      throw unavailable(
        op.extras,
        this.#link.closing ? 'the connector is closed' : 'not connected to the broker',
      );
    }

    const id = this.#idPrefix + (++this.#nextId).toString(36);
    const pending = new AmqpReply(this.#pending, op, call, limitMs, id);
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
      pending.fail(unavailable(op.extras, `the channel is closed (${describeError(error)})`));
    }
    const outcome = await pending.promise;
    if (op.mode === 'publish') return { output: { published: true, exchange: op.exchange, routingKey } };
    return decodeReply(op, outcome as Message, this.#maxPayloadBytes, call.raw === true);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  ready(): boolean {
    return this.#link.ready();
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}

/** A call waiting for its reply (or confirm); `confirmed` is the confirm callback of a publish. */
class AmqpReply extends PendingReply<AmqpOperation> {
  readonly confirmed = (error: unknown): void => {
    if (error === null || error === undefined) this.resolve(undefined);
    else {
      const reason =
        error instanceof Error && error.message === 'message nacked'
          ? 'the broker refused the message (nack)'
          : 'the channel closed before the broker confirmed the message';
      this.fail(unavailable(this.op.extras, reason));
    }
  };
}
