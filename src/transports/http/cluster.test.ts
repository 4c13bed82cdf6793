import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import type { ConnectorCall, ConnectorResult } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import type { HttpCluster } from './cluster.ts';
import type { AnswerHead } from './exchange-handler.ts';
import { openCluster, type TransportLimits } from './open-cluster.ts';

const logger = pino({ level: 'silent' });
const ctx = { requestId: 'req-1', logger };
const servers: Server[] = [];
const clusters: HttpCluster[] = [];

after(async () => {
  await Promise.all(clusters.map((cluster) => cluster.close()));
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(handler: RequestListener): Promise<{ url: URL; server: Server }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), server };
}

function open(urls: URL[], overrides: Partial<TransportLimits> = {}): HttpCluster {
  const limits: TransportLimits = {
    timeoutMs: 10_000,
    keepAliveMs: 4000,
    maxResponseBytes: 1024,
    connections: 4,
    tls: undefined,
    loadBalancing: { strategy: 'round-robin', ejectAfter: 1, ejectionTime: 30_000, maxEjectionTime: 120_000 },
    ...overrides,
  };
  const owner = { service: 'svc', kind: 'test', logger, healthBasePath: '' };
  const cluster = openCluster(urls, limits, owner, (index) => ['urls', index]);
  if ('issues' in cluster) throw new Error(JSON.stringify(cluster.issues));
  clusters.push(cluster);
  return cluster;
}

const op = { method: 'GET', extras: { service: 'svc', operation: 'get' } } as const;

function call(overrides: Partial<ConnectorCall> = {}): ConnectorCall {
  return {
    operation: 'get',
    input: {},
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 5000,
    deadlineBound: false,
    ...overrides,
  };
}

function asText(_op: unknown, head: AnswerHead, body: Buffer): ConnectorResult {
  return { output: body.toString('utf8'), status: head.status, headers: head.headers };
}

function exchange(cluster: HttpCluster, overrides: Partial<ConnectorCall> = {}): Promise<ConnectorResult> {
  return cluster.exchange(op, '/', {}, null, call(overrides), ctx, asText);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ChorusError, String(error));
    return error.code;
  }
  return 'no error';
}

describe('the HTTP cluster', () => {
  test('sends each attempt to the next host and hands the answer to the decoder', async () => {
    const a = await listen((_req, res) => res.end('a'));
    const b = await listen((_req, res) => res.end('b'));
    const cluster = open([a.url, b.url]);
    const outputs = [];
    for (let i = 0; i < 4; i++) outputs.push((await exchange(cluster)).output);
    assert.deepEqual(outputs, ['a', 'b', 'a', 'b']);
  });

  test('ejects a host that stops answering, so the next attempts go to the others', async () => {
    const dead = await listen((_req, res) => res.end('dead'));
    const live = await listen((_req, res) => res.end('live'));
    const cluster = open([dead.url, live.url]);
    dead.server.closeAllConnections();
    await new Promise((resolve) => dead.server.close(resolve));
    assert.equal(await codeOf(exchange(cluster)), 'CHORUS_UPSTREAM_TRANSPORT');
    for (let i = 0; i < 4; i++) assert.equal((await exchange(cluster)).output, 'live');
    assert.deepEqual(
      cluster.hosts().map((host) => host.ejected),
      [true, false],
    );
  });

  test('an answer over maxResponseBytes is CHORUS_UPSTREAM_TOO_LARGE, declared or streamed', async () => {
    const declared = await listen((_req, res) => res.end('x'.repeat(2000)));
    const streamed = await listen((_req, res) => {
      res.write('x'.repeat(800));
      res.end('x'.repeat(800));
    });
    assert.equal(await codeOf(exchange(open([declared.url]))), 'CHORUS_UPSTREAM_TOO_LARGE');
    assert.equal(await codeOf(exchange(open([streamed.url]))), 'CHORUS_UPSTREAM_TOO_LARGE');
  });

  test("the call's time limit ends the attempt: a timeout, or the deadline when the limit is the deadline's", async () => {
    const slow = await listen((_req, res) => setTimeout(() => res.end('late'), 500));
    const cluster = open([slow.url]);
    assert.equal(await codeOf(exchange(cluster, { timeoutMs: 50 })), 'CHORUS_UPSTREAM_TIMEOUT');
    assert.equal(
      await codeOf(exchange(cluster, { timeoutMs: 50, deadlineBound: true })),
      'CHORUS_DEADLINE_EXCEEDED',
    );
  });

  test("a cancelled call rejects with the signal's reason", async () => {
    const slow = await listen((_req, res) => setTimeout(() => res.end('late'), 500));
    const cluster = open([slow.url]);
    const controller = new AbortController();
    const reason = new Error('client gone');
    setTimeout(() => controller.abort(reason), 20);
    await assert.rejects(exchange(cluster, { signal: controller.signal }), (error) => error === reason);
  });
});
