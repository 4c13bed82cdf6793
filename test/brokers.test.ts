/**
 * Message-broker services end to end: a real gateway whose flows call an HTTP backend, a NATS
 * responder and an AMQP RPC responder (on the NATS and RabbitMQ servers of this machine), and
 * what clients see when a responder is silent or missing, or a broker goes away and comes back.
 * The shared brokers are never stopped: outages use a private nats-server on a spare port and a
 * TCP proxy in front of RabbitMQ that the test cuts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect as amqpConnect, type Channel, type ChannelModel } from 'amqplib';
import { type NatsConnection, connect as natsConnect } from 'nats';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import {
  AMQP_URL,
  brokerAddress,
  type CuttableProxy,
  NATS_URL,
  type PrivateNatsServer,
  privateNatsServer,
  requireBroker,
  requireNatsServerBinary,
  sparePort,
  startCuttableProxy,
} from './support/brokers.ts';
import { startTestGateway } from './support/gateway.ts';

const skipNats = await requireBroker('nats', NATS_URL);
const skipRabbit = await requireBroker('rabbitmq', AMQP_URL);
const skipBoth = skipNats || skipRabbit;
const skipPrivateNats = skipNats === false ? await requireNatsServerBinary() : skipNats;

const text = new TextDecoder();

/** Waits until /readyz says every connector is connected. */
async function waitReady(gateway: Gateway, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${gateway.url}/readyz`);
    await res.arrayBuffer();
    if (res.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the gateway was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls a URL until it answers 200 (the gateway recovering by itself); returns the body and the wait. */
async function until200(url: string, timeoutMs: number): Promise<{ body: unknown; waitedMs: number }> {
  const started = performance.now();
  for (;;) {
    const res = await fetch(url);
    const body: unknown = await res.json();
    if (res.status === 200) return { body, waitedMs: performance.now() - started };
    if (performance.now() - started > timeoutMs) {
      throw new Error(`still ${res.status} after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('one flow over HTTP, NATS and AMQP', { skip: skipBoth }, () => {
  const prefix = `chorus.e2e.${randomUUID().slice(0, 8)}`;
  let backend: TestBackend;
  let nats: NatsConnection;
  let amqp: ChannelModel;
  let channel: Channel;
  let gateway: Gateway;
  /** The three backends of /items/{id} answer only once all three have the request: a barrier that only parallel calls pass. */
  const arrived = new Set<string>();
  const waiters: (() => void)[] = [];
  const arrive = (who: string): Promise<void> => {
    arrived.add(who);
    if (arrived.size === 3) for (const wake of waiters.splice(0)) wake();
    return arrived.size === 3 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
  };

  before(async () => {
    backend = await startBackend(async (req, res) => {
      await arrive('http');
      json(res, 200, { id: req.url?.split('/').pop(), title: 'Blade Runner', year: 1982 });
    });
    nats = await natsConnect({ servers: NATS_URL });
    nats.subscribe(`${prefix}.ratings.*`, {
      callback: async (_error, msg) => {
        const request = JSON.parse(text.decode(msg.data)) as { id: string };
        await arrive('nats');
        msg.respond(JSON.stringify({ id: request.id, score: 4.5 }));
      },
    });
    nats.subscribe(`${prefix}.silent`, { callback: () => {} });
    await nats.flush();
    amqp = await amqpConnect(AMQP_URL);
    channel = await amqp.createChannel();
    const queue = `${prefix}.stock`;
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true });
    await channel.consume(
      queue,
      async (message) => {
        if (message === null) return;
        const request = JSON.parse(message.content.toString()) as { sku: string };
        await arrive('amqp');
        channel.sendToQueue(
          message.properties.replyTo as string,
          Buffer.from(JSON.stringify({ sku: request.sku, available: 3 })),
          { correlationId: message.properties.correlationId as string, contentType: 'application/json' },
        );
      },
      { noAck: true },
    );

    gateway = await startTestGateway(`
server: { requestTimeout: 5s }
services:
  catalog:
    kind: http
    url: ${backend.url}
    operations:
      item: { path: "/items/{id}" }
  ratings:
    kind: nats
    servers: ${NATS_URL}
    operations:
      get: { subject: "${prefix}.ratings.{id}" }
      silent: { subject: "${prefix}.silent" }
      nobody: { subject: "${prefix}.nobody" }
  stock:
    kind: amqp
    url: ${AMQP_URL}
    operations:
      check: { routingKey: "${prefix}.stock" }
      nobody: { routingKey: "${prefix}.no-queue" }
endpoints:
  - method: GET
    path: /items/{id}
    flow:
      - id: item
        call: catalog.item
        input: { params: { id: "{{ request.params.id }}" } }
      - id: rating
        call: ratings.get
        input:
          params: { id: "{{ request.params.id }}" }
          body: { id: "{{ request.params.id }}" }
      - id: stock
        call: stock.check
        input: { body: { sku: "{{ request.params.id }}" } }
    response:
      body:
        id: "{{ steps.item.id }}"
        title: "{{ steps.item.title }}"
        rating: "{{ steps.rating.score }}"
        inStock: "{{ steps.stock.available }}"
  - method: GET
    path: /silent
    timeout: 300ms
    flow:
      - { id: rating, call: ratings.silent }
    response:
      body: "{{ steps.rating }}"
  - method: GET
    path: /nobody
    timeout: 3s
    flow:
      - { id: rating, call: ratings.nobody }
    response:
      body: "{{ steps.rating }}"
  - method: GET
    path: /no-queue
    timeout: 3s
    flow:
      - { id: stock, call: stock.nobody }
    response:
      body: "{{ steps.stock }}"
`);
    await waitReady(gateway);
  });

  after(async () => {
    await gateway?.close();
    await nats?.close();
    await amqp?.close();
    await backend?.close();
  });

  test('the endpoint merges the HTTP, NATS and AMQP answers, called in parallel, into one response', async () => {
    const res = await fetch(`${gateway.url}/items/m-42`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: 'm-42', title: 'Blade Runner', rating: 4.5, inStock: 3 });
    assert.deepEqual([...arrived].sort(), ['amqp', 'http', 'nats']);
  });

  test('a NATS responder that never answers gives 504 at the endpoint deadline', async () => {
    const started = performance.now();
    const res = await fetch(`${gateway.url}/silent`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    assert.equal((await problemOf(res)).code, 'CHORUS_DEADLINE_EXCEEDED');
    assert.ok(elapsed >= 280 && elapsed < 2_000, `answered after ${elapsed} ms`);
  });

  test('a NATS subject with no responder gives 503 at once, well before the deadline', async () => {
    const started = performance.now();
    const res = await fetch(`${gateway.url}/nobody`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 503);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'CHORUS_UPSTREAM_UNAVAILABLE');
    assert.equal(problem.service, 'ratings');
    assert.ok(elapsed < 1_000, `answered after ${elapsed} ms`);
  });

  test('an AMQP request no queue takes gives 503 at once, well before the deadline', async () => {
    const started = performance.now();
    const res = await fetch(`${gateway.url}/no-queue`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 503);
    const problem = await problemOf(res);
    assert.equal(problem.code, 'CHORUS_UPSTREAM_UNAVAILABLE');
    assert.equal(problem.service, 'stock');
    assert.ok(elapsed < 1_000, `answered after ${elapsed} ms`);
  });
});

describe('the gateway when its NATS server goes away', { skip: skipPrivateNats }, () => {
  let server: PrivateNatsServer;
  let responder: NatsConnection | undefined;
  let gateway: Gateway | undefined;

  before(async () => {
    server = await privateNatsServer();
    await server.start();
    // The responder reconnects by itself too, as a real service would.
    responder = await natsConnect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    responder.subscribe('ratings.get', { callback: (_error, msg) => msg.respond('{"score": 5}') });
    await responder.flush();
  });
  after(async () => {
    await gateway?.close();
    await responder?.close().catch(() => {});
    await server?.stop();
  });

  test('requests fail fast with 503 while it is down, and succeed again by themselves once it is back', async () => {
    gateway = await startTestGateway(`
services:
  ratings:
    kind: nats
    servers: ${server.url}
    operations:
      get: { subject: ratings.get }
endpoints:
  - method: GET
    path: /rating
    timeout: 5s
    flow:
      - { id: rating, call: ratings.get }
    response:
      body: "{{ steps.rating }}"
`);
    await waitReady(gateway);
    const good = await fetch(`${gateway.url}/rating`);
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { score: 5 });

    await server.stop();
    const downStarted = performance.now();
    let down: Response | undefined;
    // The first request may race the client noticing the socket closed; any answer must be quick.
    for (let attempt = 0; attempt < 20; attempt++) {
      down = await fetch(`${gateway.url}/rating`);
      if (down.status === 503) break;
      await down.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(down?.status, 503);
    assert.equal((await problemOf(down!)).code, 'CHORUS_UPSTREAM_UNAVAILABLE');
    assert.ok(performance.now() - downStarted < 2_000, 'the outage is reported fast, not at the deadline');
    const readyz = await fetch(`${gateway.url}/readyz`);
    assert.equal(readyz.status, 503);
    assert.deepEqual(await readyz.json(), { status: 'waiting', services: ['ratings'] });

    await server.start();
    const recovered = await until200(`${gateway.url}/rating`, 5_000);
    assert.deepEqual(recovered.body, { score: 5 });
    assert.equal((await fetch(`${gateway.url}/readyz`)).status, 200);
  });
});

describe('the gateway when its AMQP broker goes away', { skip: skipRabbit }, () => {
  const prefix = `chorus.e2e.${randomUUID().slice(0, 8)}`;
  let proxy: CuttableProxy;
  let amqp: ChannelModel;
  let gateway: Gateway | undefined;

  before(async () => {
    const { host, port } = brokerAddress('rabbitmq', AMQP_URL);
    proxy = await startCuttableProxy(host, port);
    // The responder talks to RabbitMQ directly: only the gateway's path to the broker is cut.
    amqp = await amqpConnect(AMQP_URL);
    const channel = await amqp.createChannel();
    await channel.assertQueue(`${prefix}.stock`, { exclusive: true, autoDelete: true });
    await channel.consume(
      `${prefix}.stock`,
      (message) => {
        if (message === null) return;
        channel.sendToQueue(message.properties.replyTo as string, Buffer.from('{"available": 3}'), {
          correlationId: message.properties.correlationId as string,
          contentType: 'application/json',
        });
      },
      { noAck: true },
    );
  });
  after(async () => {
    await gateway?.close();
    await proxy?.close();
    await amqp?.close();
  });

  test('requests fail fast with 503 while it is cut off, and succeed again by themselves once it is back', async () => {
    const url = new URL(AMQP_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    gateway = await startTestGateway(`
services:
  stock:
    kind: amqp
    url: ${url.href}
    reconnectWait: 100ms
    operations:
      check: { routingKey: "${prefix}.stock" }
endpoints:
  - method: GET
    path: /stock
    timeout: 5s
    flow:
      - { id: stock, call: stock.check }
    response:
      body: "{{ steps.stock }}"
`);
    await waitReady(gateway);
    const good = await fetch(`${gateway.url}/stock`);
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { available: 3 });

    await proxy.cut();
    const started = performance.now();
    const down = await fetch(`${gateway.url}/stock`);
    assert.equal(down.status, 503);
    assert.equal((await problemOf(down)).code, 'CHORUS_UPSTREAM_UNAVAILABLE');
    assert.ok(performance.now() - started < 1_000, 'the outage is reported fast, not at the deadline');
    assert.equal((await fetch(`${gateway.url}/readyz`)).status, 503);

    await proxy.restore();
    const recovered = await until200(`${gateway.url}/stock`, 5_000);
    assert.deepEqual(recovered.body, { available: 3 });
    assert.equal((await fetch(`${gateway.url}/readyz`)).status, 200);
  });
});

describe('readiness counts only the services some step calls', () => {
  test('an unreachable NATS service no step calls does not hold /readyz back; a called one does', async () => {
    const closedPort = await sparePort();
    const config = (calls: string): string => `
services:
  used:
    kind: nats
    servers: nats://127.0.0.1:${closedPort}
    operations:
      get: { subject: ratings.get }
  unused:
    kind: nats
    servers: nats://127.0.0.1:${closedPort}
    operations:
      get: { subject: ratings.get }
endpoints:
  - method: GET
    path: /rating
    flow:
      - { id: rating, call: ${calls}.get }
`;
    const calling = await startTestGateway(config('used'));
    try {
      const readyz = await fetch(`${calling.url}/readyz`);
      assert.equal(readyz.status, 503);
      assert.deepEqual(await readyz.json(), { status: 'waiting', services: ['used'] });
    } finally {
      await calling.close();
    }
    const mapOnly = await startTestGateway(
      config('used').replace('- { id: rating, call: used.get }', '- { id: rating, map: "{{ 1 }}" }'),
    );
    try {
      const readyz = await fetch(`${mapOnly.url}/readyz`);
      assert.equal(readyz.status, 200);
      assert.deepEqual(await readyz.json(), { status: 'ready' });
    } finally {
      await mapOnly.close();
    }
  });
});
