import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { policyMetrics } from '../../../observability/metrics.ts';
import { Bulkhead, bulkheadPolicy } from './bulkhead.ts';

const ctx: CallContext = { requestId: 'r1', logger: pino({ level: 'silent' }) };

function call(signal = new AbortController().signal): ConnectorCall {
  return { operation: 'get', input: {}, headers: {}, signal, timeoutMs: 1000, deadlineBound: false };
}

/** A handler whose calls stay open until released. */
function gate() {
  const waiting: (() => void)[] = [];
  let started = 0;
  const handler = (): Promise<ConnectorResult> =>
    new Promise((resolve) => {
      started++;
      waiting.push(() => resolve({ output: 'ok' }));
    });
  return {
    handler,
    get started() {
      return started;
    },
    releaseOne: () => waiting.shift()?.(),
  };
}

describe('bulkhead', () => {
  test('runs at most maxConcurrent calls, queues maxQueue, and refuses the rest at once', async () => {
    const bulkhead = new Bulkhead('svc', { maxConcurrent: 2, maxQueue: 1 }, policyMetrics);
    const backend = gate();
    const handler = bulkheadPolicy(bulkhead)(backend.handler);
    const calls = [handler(call(), ctx), handler(call(), ctx), handler(call(), ctx)];
    const refused = await handler(call(), ctx).catch((error: unknown) => error);
    assert.ok(refused instanceof ChorusError);
    assert.equal(refused.code, 'CHORUS_BULKHEAD_FULL');
    assert.equal(backend.started, 2);
    assert.equal(bulkhead.queued, 1);
    backend.releaseOne();
    await calls[0];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(backend.started, 3); // the queued call took the freed slot
    backend.releaseOne();
    backend.releaseOne();
    await Promise.all(calls);
    assert.equal(bulkhead.active, 0);
  });

  test('a queued call leaves the queue when its request is cancelled', async () => {
    const bulkhead = new Bulkhead('svc', { maxConcurrent: 1, maxQueue: 1 }, policyMetrics);
    const backend = gate();
    const handler = bulkheadPolicy(bulkhead)(backend.handler);
    const running = handler(call(), ctx);
    const controller = new AbortController();
    const queued = handler(call(controller.signal), ctx);
    controller.abort(new Error('client gone'));
    await assert.rejects(queued, /client gone/);
    assert.equal(bulkhead.queued, 0);
    backend.releaseOne();
    await running;
    assert.equal(bulkhead.active, 0);
  });

  test('a queued call gives up after queueTimeout', async () => {
    const bulkhead = new Bulkhead('svc', { maxConcurrent: 1, maxQueue: 1, queueTimeout: 20 }, policyMetrics);
    const backend = gate();
    const handler = bulkheadPolicy(bulkhead)(backend.handler);
    const running = handler(call(), ctx);
    await assert.rejects(handler(call(), ctx), /calls in flight/);
    backend.releaseOne();
    await running;
  });
});
