/**
 * The amqp connector against the RabbitMQ of this machine (AMQP_URL, default
 * amqp://guest:guest@127.0.0.1:5672), with RPC responders consuming queues declared by the test;
 * outage tests go through a TCP proxy the test cuts. Skipped with one loud line when RabbitMQ is
 * down, failed under CI=true.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Channel, type ChannelModel, type ConsumeMessage, connect } from 'amqplib';
import { pino } from 'pino';
import {
  AMQP_URL,
  brokerAddress,
  type CuttableProxy,
  requireBroker,
  startCuttableProxy,
} from '../../../test/support/brokers.ts';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { createAmqpConnector } from './amqp-connector.ts';
import { amqpServiceSchema } from './schema.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };
const skipRabbit = await requireBroker('rabbitmq', AMQP_URL);

const connectors: Connector[] = [];

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
});

/** Builds a connector from raw config, through the schema so defaults apply as at load. */
async function build(raw: Record<string, unknown>, service = 'ratings'): Promise<Connector> {
  const created = await createAmqpConnector(amqpServiceSchema.parse({ kind: 'amqp', ...raw }), {
    service,
    baseDir: '.',
    logger,
  });
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

/** A connector to the machine's RabbitMQ, waited on until it is connected. */
async function connected(raw: Record<string, unknown>): Promise<Connector> {
  const connector = await build({ url: AMQP_URL, ...raw });
  await until(() => connector.ready?.() === true, 5_000, 'the connector connecting');
  return connector;
}

async function loadIssues(raw: Record<string, unknown>): Promise<ConnectorIssue[]> {
  const created = await createAmqpConnector(amqpServiceSchema.parse({ kind: 'amqp', ...raw }), {
    service: 'ratings',
    baseDir: '.',
    logger,
  });
  if (!('issues' in created)) {
    connectors.push(created);
    assert.fail('expected load-time issues');
  }
  return created.issues;
}

function callOf(operation: string, overrides: Partial<ConnectorCall> = {}): ConnectorCall {
  return {
    operation,
    input: {},
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    deadlineBound: false,
    ...overrides,
  };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function isChorusError(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ChorusError, `expected a ChorusError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

type Responder = (message: ConsumeMessage, reply: (body: string, contentType?: string) => void) => void;

describe('amqp connector', { skip: skipRabbit }, () => {
  let model: ChannelModel;
  let channel: Channel;
  /** A name prefix of this run, so parallel runs never share queues. */
  const prefix = `chorus.test.${randomUUID().slice(0, 8)}`;

  before(async () => {
    model = await connect(AMQP_URL);
    channel = await model.createChannel();
  });
  let closed = false;
  after(async () => {
    closed = true;
    await model?.close();
  });

  /** Declares an exclusive queue and answers each request on it through `handler`. */
  async function respond(queue: string, handler: Responder): Promise<void> {
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
    await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        handler(message, (body, contentType = 'application/json') => {
          // A delayed answer may come after the suite closed the channel; it is simply not sent.
          if (closed) return;
          channel.sendToQueue(message.properties.replyTo as string, Buffer.from(body), {
            correlationId: message.properties.correlationId as string,
            contentType,
          });
        });
      },
      { noAck: true },
    );
  }

  describe('rpc', () => {
    test('a request sends input.body as JSON to the queue of the filled routing key and returns the parsed reply', async () => {
      const seen: unknown[] = [];
      await respond(`${prefix}.rating.m-42`, (message, reply) => {
        seen.push({
          body: JSON.parse(message.content.toString()),
          contentType: message.properties.contentType,
          hasCorrelationId: typeof message.properties.correlationId === 'string',
          directReplyTo: String(message.properties.replyTo).startsWith('amq.rabbitmq.reply-to.'),
        });
        reply(JSON.stringify({ score: 4.5 }));
      });
      const connector = await connected({
        operations: { rating: { routingKey: `${prefix}.rating.{id}` } },
      });
      const result = await connector.call(
        callOf('rating', { input: { params: { id: 'm-42' }, body: { detail: true } } }),
        callContext,
      );
      assert.deepEqual(result.output, { score: 4.5 });
      assert.deepEqual(seen, [
        {
          body: { detail: true },
          contentType: 'application/json',
          hasCorrelationId: true,
          directReplyTo: true,
        },
      ]);
    });

    test('text/plain bodies go out as they are, and a text reply comes back as a string', async () => {
      await respond(`${prefix}.upper`, (message, reply) =>
        reply(message.content.toString().toUpperCase(), 'text/plain'),
      );
      const connector = await connected({
        operations: { upper: { routingKey: `${prefix}.upper`, contentType: 'text/plain' } },
      });
      const result = await connector.call(callOf('upper', { input: { body: 'hello <b>' } }), callContext);
      assert.equal(result.output, 'HELLO <B>');
    });

    test('a reply is read by its own content type: text from a JSON operation stays a string', async () => {
      await respond(`${prefix}.texty`, (_message, reply) => reply('plain words', 'text/plain'));
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.texty` } } });
      assert.equal((await connector.call(callOf('get'), callContext)).output, 'plain words');
    });

    test('static, propagated and input headers reach the responder, later ones winning', async () => {
      let received: unknown;
      await respond(`${prefix}.headers`, (message, reply) => {
        received = message.properties.headers;
        reply('{}');
      });
      const connector = await connected({
        headers: { 'x-layer': 'service', 'x-service-only': 's' },
        operations: { get: { routingKey: `${prefix}.headers`, headers: { 'x-layer': 'operation' } } },
      });
      await connector.call(
        callOf('get', {
          headers: { 'x-request-id': 'req-7' },
          input: { headers: { 'x-custom': 'c', 'x-count': 3 } },
        }),
        callContext,
      );
      assert.deepEqual(received, {
        'x-layer': 'operation',
        'x-service-only': 's',
        'x-request-id': 'req-7',
        'x-custom': 'c',
        'x-count': 3,
      });
    });

    test('a request carries its time limit as expiration, so the broker drops it once nobody waits', async () => {
      let expiration: unknown;
      await respond(`${prefix}.expiry`, (message, reply) => {
        expiration = message.properties.expiration;
        reply('{}');
      });
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.expiry` } } });
      await connector.call(callOf('get', { timeoutMs: 1_234 }), callContext);
      assert.equal(expiration, '1234');
    });

    test('a routing key param with ".", "*", "#" or whitespace is refused and nothing is sent', async () => {
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.guarded.{id}` } } });
      for (const id of ['a.b', '*', '#', 'a b', '']) {
        await assert.rejects(
          connector.call(callOf('get', { input: { params: { id } } }), callContext),
          isChorusError('CHORUS_VALIDATION_FAILED'),
          JSON.stringify(id),
        );
      }
    });

    test('a request no queue takes fails at once with CHORUS_UPSTREAM_UNAVAILABLE', async () => {
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.nobody` } } });
      const started = performance.now();
      await assert.rejects(
        connector.call(callOf('get', { timeoutMs: 5_000 }), callContext),
        (error) => isChorusError('CHORUS_UPSTREAM_UNAVAILABLE')(error) && (error as ChorusError).retryable,
      );
      assert.ok(performance.now() - started < 1_000, 'an unroutable request is reported without waiting');
    });

    test('a responder that never answers fails the call with CHORUS_UPSTREAM_TIMEOUT at its limit', async () => {
      await respond(`${prefix}.silent`, () => {});
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.silent` } } });
      const started = performance.now();
      await assert.rejects(
        connector.call(callOf('get', { timeoutMs: 150 }), callContext),
        isChorusError('CHORUS_UPSTREAM_TIMEOUT'),
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 140 && elapsed < 1_000, `timed out after ${elapsed} ms`);
    });

    test('when the request deadline is the limit the error is CHORUS_DEADLINE_EXCEEDED', async () => {
      await respond(`${prefix}.silent2`, () => {});
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.silent2` } } });
      await assert.rejects(
        connector.call(callOf('get', { timeoutMs: 50, deadlineBound: true }), callContext),
        isChorusError('CHORUS_DEADLINE_EXCEEDED'),
      );
    });

    test('a late reply is dropped and the next call gets its own answer', async () => {
      let count = 0;
      await respond(`${prefix}.late`, (_message, reply) => {
        count++;
        const answer = JSON.stringify({ call: count });
        // The first answer comes after the caller gave up; later ones at once.
        if (count === 1) setTimeout(() => reply(answer), 150);
        else reply(answer);
      });
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.late` } } });
      await assert.rejects(
        connector.call(callOf('get', { timeoutMs: 50 }), callContext),
        isChorusError('CHORUS_UPSTREAM_TIMEOUT'),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual((await connector.call(callOf('get'), callContext)).output, { call: 2 });
    });

    test('an aborted signal rejects the call at once with its reason', async () => {
      await respond(`${prefix}.slow`, (_message, reply) => setTimeout(() => reply('{}'), 1_000));
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.slow` } } });
      const controller = new AbortController();
      const reason = new Error('client went away');
      setTimeout(() => controller.abort(reason), 30);
      const started = performance.now();
      await assert.rejects(
        connector.call(callOf('get', { signal: controller.signal }), callContext),
        (error) => {
          assert.equal(error, reason);
          return true;
        },
      );
      assert.ok(performance.now() - started < 500);
    });

    test('a malformed JSON reply fails with CHORUS_UPSTREAM_DECODE', async () => {
      await respond(`${prefix}.broken`, (_message, reply) => reply('{"score": '));
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.broken` } } });
      await assert.rejects(
        connector.call(callOf('get'), callContext),
        isChorusError('CHORUS_UPSTREAM_DECODE'),
      );
    });

    test('a reply over maxPayloadBytes fails with CHORUS_UPSTREAM_TOO_LARGE', async () => {
      await respond(`${prefix}.big`, (_message, reply) => reply(JSON.stringify({ blob: 'x'.repeat(2_000) })));
      const connector = await connected({
        maxPayloadBytes: 1_000,
        operations: { get: { routingKey: `${prefix}.big` } },
      });
      await assert.rejects(
        connector.call(callOf('get'), callContext),
        isChorusError('CHORUS_UPSTREAM_TOO_LARGE'),
      );
    });

    test('__proto__ keys in a reply are dropped', async () => {
      await respond(`${prefix}.proto`, (_message, reply) =>
        reply('{"a": 1, "__proto__": {"polluted": true}}'),
      );
      const connector = await connected({ operations: { get: { routingKey: `${prefix}.proto` } } });
      const output = (await connector.call(callOf('get'), callContext)).output as Record<string, unknown>;
      assert.deepEqual(output, { a: 1 });
      assert.equal(Object.hasOwn(output, '__proto__'), false);
    });
  });

  describe('publish', () => {
    test('publish sends to the exchange with the routing key and answers once the broker confirms', async () => {
      const exchange = `${prefix}.events`;
      await channel.assertExchange(exchange, 'topic', { autoDelete: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, exchange, 'item.*');
      const received: { key: string; body: unknown; deliveryMode: unknown }[] = [];
      await channel.consume(
        queue,
        (message) => {
          if (message === null) return;
          received.push({
            key: message.fields.routingKey,
            body: JSON.parse(message.content.toString()),
            deliveryMode: message.properties.deliveryMode,
          });
        },
        { noAck: true },
      );
      const connector = await connected({
        operations: {
          emit: { mode: 'publish', exchange, routingKey: 'item.{kind}', persistent: true },
        },
      });
      const result = await connector.call(
        callOf('emit', { input: { params: { kind: 'viewed' }, body: { id: 7 } } }),
        callContext,
      );
      assert.deepEqual(result.output, { published: true, exchange, routingKey: 'item.viewed' });
      await until(() => received.length === 1, 2_000, 'the event arriving');
      assert.deepEqual(received, [{ key: 'item.viewed', body: { id: 7 }, deliveryMode: 2 }]);
    });

    test('a mandatory publish no queue takes fails with CHORUS_UPSTREAM_UNAVAILABLE', async () => {
      const connector = await connected({
        operations: { emit: { mode: 'publish', routingKey: `${prefix}.nobody`, mandatory: true } },
      });
      await assert.rejects(
        connector.call(callOf('emit', { input: { body: {} } }), callContext),
        isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'),
      );
    });

    test('a publish to an exchange that does not exist fails, and the next publish works again', async () => {
      const connector = await connected({
        operations: {
          lost: { mode: 'publish', exchange: `${prefix}.no-such-exchange`, routingKey: 'x' },
          fine: { mode: 'publish', routingKey: `${prefix}.anything` },
        },
      });
      await assert.rejects(
        connector.call(callOf('lost'), callContext),
        isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'),
      );
      await until(() => connector.ready?.() === true, 2_000, 'the channel reopening');
      assert.deepEqual((await connector.call(callOf('fine'), callContext)).output, {
        published: true,
        exchange: '',
        routingKey: `${prefix}.anything`,
      });
    });
  });

  describe('when the broker goes away', () => {
    let proxy: CuttableProxy;

    before(async () => {
      const { host, port } = brokerAddress('rabbitmq', AMQP_URL);
      proxy = await startCuttableProxy(host, port);
    });
    after(async () => {
      await proxy?.close();
    });

    test('calls fail at once while it is gone, and succeed again once it is back', async () => {
      await respond(`${prefix}.outage`, (_message, reply) => reply('{"ok": true}'));
      const url = new URL(AMQP_URL);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      const connector = await connected({
        url: url.href,
        reconnectWait: '50ms',
        operations: { ping: { routingKey: `${prefix}.outage` } },
      });
      assert.deepEqual((await connector.call(callOf('ping'), callContext)).output, { ok: true });

      await proxy.cut();
      await until(() => connector.ready?.() === false, 5_000, 'the connector noticing the outage');
      const started = performance.now();
      await assert.rejects(
        connector.call(callOf('ping', { timeoutMs: 5_000 }), callContext),
        isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'),
      );
      assert.ok(performance.now() - started < 100, 'a call during the outage fails without waiting');

      await proxy.restore();
      await until(() => connector.ready?.() === true, 5_000, 'the connector reconnecting');
      assert.deepEqual((await connector.call(callOf('ping'), callContext)).output, { ok: true });
    });

    test('a call waiting for its reply when the connection drops fails at once', async () => {
      await respond(`${prefix}.outage-slow`, () => {});
      const url = new URL(AMQP_URL);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      await proxy.restore();
      const connector = await connected({
        url: url.href,
        reconnectWait: '50ms',
        operations: { ping: { routingKey: `${prefix}.outage-slow` } },
      });
      const waiting = connector.call(callOf('ping', { timeoutMs: 5_000 }), callContext);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      await proxy.cut();
      await assert.rejects(waiting, isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'));
      assert.ok(performance.now() - started < 1_000);
      await proxy.restore();
    });
  });
});

describe('amqp connector config', () => {
  test('bad routing keys and a non-mandatory rpc are load issues at their keys', async () => {
    const issues = await loadIssues({
      url: 'amqp://guest:guest@127.0.0.1:5672',
      operations: {
        spaced: { routingKey: 'a b' },
        placeholder: { routingKey: 'a.{bad name}' },
        unclosed: { routingKey: 'a.{id' },
        long: { routingKey: 'x'.repeat(300) },
        loose: { routingKey: 'a', mandatory: false },
      },
    });
    assert.deepEqual(issues.map((issue) => issue.path.join('.')).sort(), [
      'operations.long.routingKey',
      'operations.loose.mandatory',
      'operations.placeholder.routingKey',
      'operations.spaced.routingKey',
      'operations.unclosed.routingKey',
    ]);
  });

  test('the schema refuses a url that is not amqp:// and never echoes its password', () => {
    const parsed = amqpServiceSchema.safeParse({
      kind: 'amqp',
      url: 'http://user:secret@example.com',
      operations: {},
    });
    assert.equal(parsed.success, false);
    assert.ok(!JSON.stringify(parsed.error?.issues).includes('secret'));
  });

  test('a connector whose broker is down is not ready, fails calls at once, and closes cleanly', async () => {
    const connector = await build({
      url: 'amqp://guest:guest@127.0.0.1:1',
      operations: { get: { routingKey: 'a' } },
    });
    assert.equal(connector.ready?.(), false);
    const started = performance.now();
    await assert.rejects(
      connector.call(callOf('get'), callContext),
      isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'),
    );
    assert.ok(performance.now() - started < 100);
    await connector.close();
  });
});
