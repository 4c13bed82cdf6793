/**
 * The `nats` connector: calls backends that answer on NATS subjects (request/reply), and
 * publishes events, through one connection per service made with the `nats` client. Subjects,
 * headers and limits are compiled once in createNatsConnector; a call fills in its own data.
 *
 * The connection is made in the background (nats-connection.ts), so a broker that is down never
 * blocks loading: `ready()` stays false until the first connection is up. While it is away,
 * calls fail at once with CHORUS_UPSTREAM_UNAVAILABLE instead of being queued until their timeout.
 */
import type { Msg } from 'nats';
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
import { callLimit, MAX_TIMER_MS } from '../../transports/call-limit.ts';
import { unavailable } from '../messaging/broker-errors.ts';
import { PendingReplies, PendingReply } from '../messaging/pending-replies.ts';
import { NatsLink } from './nats-connection.ts';
import { translate } from './nats-errors.ts';
import { buildHeaders, buildSubject, decodeReply, encodePayload } from './nats-message.ts';
import { compileOperations, type NatsOperation } from './nats-operations.ts';
import { clientOptions, readServers } from './nats-servers.ts';
import type { NatsServiceConfig } from './schema.ts';

/** Creates the connector of one `nats` service, or the issues that keep its config from loading. */
export async function createNatsConnector(
  config: NatsServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;
  const servers = readServers(config, issues);
  // Sizes and durations are numbers already (the schema parsed them); only ranges are checked here.
  const maxPayloadBytes = config.maxPayloadBytes;
  const reconnectWaitMs = config.reconnectWait;
  if (reconnectWaitMs <= 0) {
    issues.push({
      path: ['reconnectWait'],
      message: 'reconnectWait must be a duration above 0, such as "250ms"',
    });
  }
  const { operations, descriptions } = compileOperations(config, service, issues);
  if (issues.length > 0) {
    return { issues };
  }

  const pending = new PendingReplies<NatsOperation>();
  const link = new NatsLink({
    service,
    options: clientOptions(config, service, servers, reconnectWaitMs),
    shownServers: servers.urls.join(','),
    reconnectWaitMs,
    pending,
    logger: ctx.logger,
    connect: ctx.standIn?.natsConnect,
  });
  link.start();
  return new NatsConnector(service, link, pending, operations, descriptions, maxPayloadBytes);
}

/** A live `nats` connector: its calls go through the service's one connection. */
class NatsConnector implements Connector {
  readonly kind = 'nats';
  readonly service: string;
  readonly #link: NatsLink;
  /** Calls waiting for a reply or a flush; failed at once when the connection drops. */
  readonly #pending: PendingReplies<NatsOperation>;
  readonly #operations: ReadonlyMap<string, NatsOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #maxPayloadBytes: number;

  constructor(
    service: string,
    link: NatsLink,
    pending: PendingReplies<NatsOperation>,
    operations: ReadonlyMap<string, NatsOperation>,
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
    const subject = buildSubject(op, input.params);
    const headers = buildHeaders(op, call.headers, input.headers);
    const payload = encodePayload(op, input.body);

    const limitMs = callLimit(call, op.extras);
    const nc = this.#link.client;
    if (nc === undefined) {
      throw unavailable(
        op.extras,
        this.#link.closing ? 'the connector is closed' : 'not connected to the NATS server',
      );
    }

    const pending = new NatsReply(this.#pending, op, call, limitMs);
    const options = headers === undefined ? undefined : { headers };
    try {
      if (op.mode === 'publish') {
        nc.publish(subject, payload, options);
        // The flush round trip means the server has the message: published, not only buffered.
        nc.flush().then(pending.settle, pending.reject);
      } else {
        // The client's own timer is a backstop; the call's timer fires first and decides the error.
        const backstop = Math.min(limitMs + 1_000, MAX_TIMER_MS);
        nc.request(subject, payload, { timeout: backstop, ...options }).then(pending.settle, pending.reject);
      }
    } catch (error) {
      pending.reject(error);
    }
    const outcome = await pending.promise;
    if (op.mode === 'publish') return { output: { published: true, subject } };
    return decodeReply(op, outcome as Msg, this.#maxPayloadBytes, call.raw === true);
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

/**
 * A call waiting for its reply (or flush); `settle` and `reject` are the handlers given to the
 * client's promise, and what the client rejects with becomes a catalogue error.
 */
class NatsReply extends PendingReply<NatsOperation> {
  readonly settle = (value: unknown): void => this.resolve(value);
  readonly reject = (error: unknown): void =>
    this.fail(translate(this.op, error, this.limitMs, this.deadlineBound));
}
