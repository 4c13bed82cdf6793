/**
 * The nats connector against the NATS server of this machine (NATS_URL, default
 * nats://127.0.0.1:4222), with responders subscribed by the test; outage tests use a private
 * nats-server on a spare port. Skipped with one loud line when NATS is down, failed under CI=true.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type Msg, type NatsConnection, headers as natsHeaders } from 'nats';
import { pino } from 'pino';
import {
  NATS_URL,
  type PrivateNatsServer,
  privateNatsServer,
  requireBroker,
  requireNatsServerBinary,
} from '../../../test/support/brokers.ts';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { createNatsConnector } from './nats-connector.ts';
import { natsServiceSchema } from './schema.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };
const skipNats = await requireBroker('nats', NATS_URL);
const skipPrivate = skipNats === false ? await requireNatsServerBinary() : skipNats;

const connectors: Connector[] = [];

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
});

/** Builds a connector from raw config, through the schema so defaults apply as at load. */
async function build(raw: Record<string, unknown>, service = 'ratings'): Promise<Connector> {
  const created = await createNatsConnector(natsServiceSchema.parse({ kind: 'nats', ...raw }), {
    service,
    baseDir: '.',
    logger,
  });
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

/** A connector to the machine's NATS, waited on until it is connected. */
async function connected(raw: Record<string, unknown>): Promise<Connector> {
  const connector = await build({ servers: NATS_URL, ...raw });
  await until(() => connector.ready?.() === true, 5_000, 'the connector connecting');
  return connector;
}

async function loadIssues(raw: Record<string, unknown>): Promise<ConnectorIssue[]> {
  const created = await createNatsConnector(natsServiceSchema.parse({ kind: 'nats', ...raw }), {
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

const text = new TextDecoder();

describe('nats connector request/reply', { skip: skipNats }, () => {
  let client: NatsConnection;
  /** A subject prefix of this run, so parallel runs never answer each other. */
  const prefix = `chorus.test.${randomUUID().slice(0, 8)}`;

  before(async () => {
    client = await connect({ servers: NATS_URL });
  });
  after(async () => {
    await client?.close();
  });

  /** Subscribes a responder and waits until the server has the subscription. */
  async function respond(subject: string, handler: (msg: Msg) => void): Promise<void> {
    client.subscribe(subject, { callback: (_error, msg) => handler(msg) });
    await client.flush();
  }

  test('a request sends input.body as JSON to the filled subject and returns the parsed reply', async () => {
    const seen: { subject: string; body: unknown }[] = [];
    await respond(`${prefix}.items.*.rating`, (msg) => {
      seen.push({ subject: msg.subject, body: JSON.parse(text.decode(msg.data)) });
      msg.respond(JSON.stringify({ score: 4.5, votes: 12 }));
    });
    const connector = await connected({
      operations: { rating: { subject: `${prefix}.items.{id}.rating` } },
    });
    const result = await connector.call(
      callOf('rating', { input: { params: { id: 'm-42' }, body: { detail: true } } }),
      callContext,
    );
    assert.deepEqual(result.output, { score: 4.5, votes: 12 });
    assert.deepEqual(seen, [{ subject: `${prefix}.items.m-42.rating`, body: { detail: true } }]);
  });

  test('raw payloads go out and come back as strings', async () => {
    await respond(`${prefix}.upper`, (msg) => msg.respond(text.decode(msg.data).toUpperCase()));
    const connector = await connected({
      operations: { upper: { subject: `${prefix}.upper`, payload: 'raw' } },
    });
    const result = await connector.call(callOf('upper', { input: { body: 'hello <b>' } }), callContext);
    assert.equal(result.output, 'HELLO <B>');
  });

  test('an empty JSON reply is null', async () => {
    await respond(`${prefix}.empty`, (msg) => msg.respond());
    const connector = await connected({ operations: { empty: { subject: `${prefix}.empty` } } });
    assert.equal((await connector.call(callOf('empty'), callContext)).output, null);
  });

  test('static, propagated and input headers reach the responder, later ones winning', async () => {
    let received: Record<string, string[]> = {};
    await respond(`${prefix}.headers`, (msg) => {
      received = Object.fromEntries([...(msg.headers ?? [])].map(([name, values]) => [name, values]));
      msg.respond('{}');
    });
    const connector = await connected({
      headers: { 'X-Layer': 'service', 'X-Service-Only': 's' },
      operations: { get: { subject: `${prefix}.headers`, headers: { 'X-Layer': 'operation' } } },
    });
    await connector.call(
      callOf('get', {
        headers: { 'x-request-id': 'req-7' },
        input: { headers: { 'X-Custom': 'c', 'x-layer': 'input', 'X-Tags': ['a', 'b'] } },
      }),
      callContext,
    );
    assert.deepEqual(received, {
      'X-Service-Only': ['s'],
      'x-request-id': ['req-7'],
      'X-Custom': ['c'],
      'x-layer': ['input'],
      'X-Tags': ['a', 'b'],
    });
  });

  test('a subject param with ".", "*", ">" or whitespace is refused and nothing is sent', async () => {
    let calls = 0;
    await respond(`${prefix}.guarded.>`, (msg) => {
      calls++;
      msg.respond('{}');
    });
    const connector = await connected({ operations: { get: { subject: `${prefix}.guarded.{id}` } } });
    for (const id of ['a.b', '*', '>', 'a b', 'a\r\nPUB x 1', '']) {
      await assert.rejects(
        connector.call(callOf('get', { input: { params: { id } } }), callContext),
        isChorusError('CHORUS_VALIDATION_FAILED'),
        JSON.stringify(id),
      );
    }
    await connector.call(callOf('get', { input: { params: { id: 'ok' } } }), callContext);
    assert.equal(calls, 1);
  });

  test('a header value with a line break is refused', async () => {
    const connector = await connected({ operations: { get: { subject: `${prefix}.unused` } } });
    await assert.rejects(
      connector.call(callOf('get', { input: { headers: { 'X-Bad': 'a\r\nb' } } }), callContext),
      isChorusError('CHORUS_VALIDATION_FAILED'),
    );
  });

  test('with no responder on the subject the call fails at once with CHORUS_UPSTREAM_UNAVAILABLE', async () => {
    const connector = await connected({ operations: { get: { subject: `${prefix}.nobody` } } });
    const started = performance.now();
    await assert.rejects(
      connector.call(callOf('get', { timeoutMs: 5_000 }), callContext),
      (error) => isChorusError('CHORUS_UPSTREAM_UNAVAILABLE')(error) && (error as ChorusError).retryable,
    );
    assert.ok(performance.now() - started < 1_000, 'no responders is reported without waiting');
  });

  test('a responder that never answers fails the call with CHORUS_UPSTREAM_TIMEOUT at its limit', async () => {
    await respond(`${prefix}.silent`, () => {});
    const connector = await connected({ operations: { get: { subject: `${prefix}.silent` } } });
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
    const connector = await connected({ operations: { get: { subject: `${prefix}.silent2` } } });
    await assert.rejects(
      connector.call(callOf('get', { timeoutMs: 50, deadlineBound: true }), callContext),
      isChorusError('CHORUS_DEADLINE_EXCEEDED'),
    );
  });

  test('a late reply is dropped and the next call gets its own answer', async () => {
    let count = 0;
    await respond(`${prefix}.late`, (msg) => {
      count++;
      const answer = JSON.stringify({ call: count });
      // The first answer comes after the caller gave up; later ones at once.
      if (count === 1) setTimeout(() => msg.respond(answer), 150);
      else msg.respond(answer);
    });
    const connector = await connected({ operations: { get: { subject: `${prefix}.late` } } });
    await assert.rejects(
      connector.call(callOf('get', { timeoutMs: 50 }), callContext),
      isChorusError('CHORUS_UPSTREAM_TIMEOUT'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual((await connector.call(callOf('get'), callContext)).output, { call: 2 });
  });

  test('an aborted signal rejects the call at once with its reason', async () => {
    await respond(`${prefix}.slow`, (msg) => setTimeout(() => msg.respond('{}'), 1_000));
    const connector = await connected({ operations: { get: { subject: `${prefix}.slow` } } });
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
    await respond(`${prefix}.broken`, (msg) => msg.respond('{"score": '));
    const connector = await connected({ operations: { get: { subject: `${prefix}.broken` } } });
    await assert.rejects(connector.call(callOf('get'), callContext), isChorusError('CHORUS_UPSTREAM_DECODE'));
  });

  test('a reply over maxPayloadBytes fails with CHORUS_UPSTREAM_TOO_LARGE', async () => {
    await respond(`${prefix}.big`, (msg) => msg.respond(JSON.stringify({ blob: 'x'.repeat(2_000) })));
    const connector = await connected({
      maxPayloadBytes: 1_000,
      operations: { get: { subject: `${prefix}.big` } },
    });
    await assert.rejects(
      connector.call(callOf('get'), callContext),
      isChorusError('CHORUS_UPSTREAM_TOO_LARGE'),
    );
  });

  test('__proto__ keys in a reply are dropped', async () => {
    await respond(`${prefix}.proto`, (msg) => msg.respond('{"a": 1, "__proto__": {"polluted": true}}'));
    const connector = await connected({ operations: { get: { subject: `${prefix}.proto` } } });
    const output = (await connector.call(callOf('get'), callContext)).output as Record<string, unknown>;
    assert.deepEqual(output, { a: 1 });
    assert.equal(Object.hasOwn(output, '__proto__'), false);
  });

  test('a NATS service error reply fails with CHORUS_UPSTREAM_PROTOCOL keeping its code and text', async () => {
    await respond(`${prefix}.svcerr`, (msg) => {
      const reply = natsHeaders();
      reply.set('Nats-Service-Error-Code', '404');
      reply.set('Nats-Service-Error', 'no such item');
      msg.respond('{"missing": "m-1"}', { headers: reply });
    });
    const connector = await connected({ operations: { get: { subject: `${prefix}.svcerr` } } });
    await assert.rejects(connector.call(callOf('get'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_PROTOCOL')(error);
      const extras = (error as ChorusError).extras;
      assert.equal(extras.serviceErrorCode, '404');
      assert.equal(extras.serviceError, 'no such item');
      // What an onError fallback reads as error.status and error.body.
      assert.deepEqual((error as ChorusError).data, { status: 404, body: { missing: 'm-1' } });
      return true;
    });
  });

  test('a forward-only call gets the JSON reply undecoded as raw bytes', async () => {
    await respond(`${prefix}.raw`, (msg) => msg.respond('{"kept": "as sent"}'));
    const connector = await connected({ operations: { get: { subject: `${prefix}.raw` } } });
    const result = await connector.call(callOf('get', { raw: true }), callContext);
    assert.equal(result.raw?.toString('utf8'), '{"kept": "as sent"}');
  });

  test('publish sends the event and answers {published: true, subject} once the server has it', async () => {
    const events: unknown[] = [];
    await respond(`${prefix}.events.*`, (msg) => events.push(JSON.parse(text.decode(msg.data))));
    const connector = await connected({
      operations: { emit: { subject: `${prefix}.events.{kind}`, mode: 'publish' } },
    });
    const result = await connector.call(
      callOf('emit', { input: { params: { kind: 'viewed' }, body: { id: 7 } } }),
      callContext,
    );
    assert.deepEqual(result.output, { published: true, subject: `${prefix}.events.viewed` });
    await until(() => events.length === 1, 2_000, 'the event arriving');
    assert.deepEqual(events, [{ id: 7 }]);
  });

  test('describe lists the operations with the params their subject needs', async () => {
    const connector = await connected({
      operations: { get: { subject: `${prefix}.{kind}.{id}`, summary: 'Gets one' } },
    });
    const [description] = connector.describe();
    assert.equal(description?.name, 'get');
    assert.deepEqual(description?.requiredParams, ['kind', 'id']);
    assert.equal(description?.summary, 'Gets one');
  });
});

describe('nats connector config', () => {
  test('a subject with a wildcard, an empty token or a bad placeholder is a load issue at its key', async () => {
    const issues = await loadIssues({
      servers: NATS_URL,
      operations: {
        wild: { subject: 'items.*' },
        tail: { subject: 'items.>' },
        empty: { subject: 'items..x' },
        spaced: { subject: 'items x' },
        placeholder: { subject: 'items.{bad name}' },
        unclosed: { subject: 'items.{id' },
      },
    });
    assert.deepEqual(issues.map((issue) => issue.path.join('.')).sort(), [
      'operations.empty.subject',
      'operations.placeholder.subject',
      'operations.spaced.subject',
      'operations.tail.subject',
      'operations.unclosed.subject',
      'operations.wild.subject',
    ]);
  });

  test('a server that is not a NATS URL, half credentials and bad headers are load issues', async () => {
    const issues = await loadIssues({
      servers: ['nats://127.0.0.1:4222', 'http://user:secret@example.com'],
      pass: 'secret',
      headers: { 'Bad:Name': 'x', 'X-Ok': 'line\nbreak' },
      operations: { get: { subject: 'a.b' } },
    });
    assert.deepEqual(issues.map((issue) => issue.path.join('.')).sort(), [
      'headers.Bad:Name',
      'headers.X-Ok',
      'pass',
      'servers.1',
    ]);
    assert.ok(!JSON.stringify(issues).includes('secret'), 'credentials never appear in issues');
  });

  test('credentials both in a server URL and in user/pass are a load issue that never shows them', async () => {
    const issues = await loadIssues({
      servers: 'nats://bob:s3cret@127.0.0.1:4222',
      user: 'bob',
      pass: 's3cret',
      operations: { get: { subject: 'a.b' } },
    });
    assert.deepEqual(
      issues.map((issue) => issue.path.join('.')),
      ['servers'],
    );
    assert.ok(!JSON.stringify(issues).includes('s3cret'));
  });

  test('a connector whose server is down is not ready, fails calls at once, and closes cleanly', async () => {
    const connector = await build({ servers: 'nats://127.0.0.1:1', operations: { get: { subject: 'a.b' } } });
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

describe('nats connector when its server goes away', { skip: skipPrivate }, () => {
  let server: PrivateNatsServer;
  let responder: NatsConnection | undefined;

  before(async () => {
    server = await privateNatsServer();
  });
  after(async () => {
    await responder?.close().catch(() => {});
    await server?.stop();
  });

  /** Connects a responder that echoes {ok: true} on `subject`, reconnecting by itself like the gateway. */
  async function startResponder(subject: string): Promise<void> {
    responder = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    responder.subscribe(subject, { callback: (_error, msg) => msg.respond('{"ok": true}') });
    await responder.flush();
  }

  test('a connector made before its server is up becomes ready when the server starts', async () => {
    const connector = await build({
      servers: server.url,
      operations: { ping: { subject: 'outage.ping' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(connector.ready?.(), false);
    await server.start();
    await until(() => connector.ready?.() === true, 5_000, 'the connector connecting');
    await startResponder('outage.ping');
    assert.deepEqual((await connector.call(callOf('ping'), callContext)).output, { ok: true });
  });

  test('while the server is down calls fail at once, and they succeed again once it is back', async () => {
    if (responder === undefined) {
      await server.start();
      await startResponder('outage.ping');
    }
    const connector = await build({ servers: server.url, operations: { ping: { subject: 'outage.ping' } } });
    await until(() => connector.ready?.() === true, 5_000, 'the connector connecting');
    assert.deepEqual((await connector.call(callOf('ping'), callContext)).output, { ok: true });

    await server.stop();
    await until(() => connector.ready?.() === false, 5_000, 'the connector noticing the outage');
    const started = performance.now();
    await assert.rejects(
      connector.call(callOf('ping', { timeoutMs: 5_000 }), callContext),
      isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'),
    );
    assert.ok(performance.now() - started < 100, 'a call during the outage fails without waiting');

    await server.start();
    await until(() => connector.ready?.() === true, 5_000, 'the connector reconnecting');
    // The responder reconnects by itself too; until it has, the subject has no responders.
    const deadline = Date.now() + 5_000;
    let output: unknown;
    while (output === undefined) {
      try {
        output = (await connector.call(callOf('ping', { timeoutMs: 500 }), callContext)).output;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    assert.deepEqual(output, { ok: true });
  });
});

describe('nats connector credentials', { skip: skipPrivate }, () => {
  let server: PrivateNatsServer;

  before(async () => {
    server = await privateNatsServer(['--user', 'bob', '--pass', 's3cret']);
    await server.start();
  });
  after(async () => {
    await server?.stop();
  });

  test('user and pass given as options or in the server URL both log in', async () => {
    const withOptions = await build({
      servers: server.url,
      user: 'bob',
      pass: 's3cret',
      operations: { x: { subject: 'a' } },
    });
    const inUrl = await build({
      servers: server.url.replace('nats://', 'nats://bob:s3cret@'),
      operations: { x: { subject: 'a' } },
    });
    await until(() => withOptions.ready?.() === true && inUrl.ready?.() === true, 5_000, 'both logging in');
  });

  test('wrong credentials keep the connector not ready', async () => {
    const connector = await build({
      servers: server.url,
      user: 'bob',
      pass: 'wrong',
      operations: { x: { subject: 'a' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(connector.ready?.(), false);
  });
});
