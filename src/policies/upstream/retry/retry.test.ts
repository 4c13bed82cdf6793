import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import type { UpstreamHandler } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { policyMetrics } from '../../../observability/metrics.ts';
import { parseRetryAfter, type RetryOptions, retryPolicy } from './retry.ts';
import { RetryBudget } from './retry-budget.ts';

const ctx: CallContext = { requestId: 'r1', logger: pino({ level: 'silent' }) };

function call(overrides: Partial<ConnectorCall> = {}): ConnectorCall {
  return {
    operation: 'get',
    input: {},
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 1000,
    deadlineBound: false,
    deadline: Date.now() + 5000,
    ...overrides,
  };
}

function options(overrides: Partial<RetryOptions> = {}): RetryOptions {
  return {
    service: 'svc',
    attempts: 3,
    backoffMs: 1,
    maxBackoffMs: 10,
    maxRetryAfterMs: 5000,
    statuses: new Set(),
    idempotent: new Set(['get']),
    budget: new RetryBudget(1, 100, 10_000),
    telemetry: policyMetrics,
    ...overrides,
  };
}

function status(code: number, headers: Record<string, string> = {}): ChorusError {
  return new ChorusError('CHORUS_UPSTREAM_STATUS', `answered ${code}`, {
    retryable: code === 502 || code === 503 || code === 504,
    extras: { service: 'svc', operation: 'get', upstreamStatus: code },
    data: { status: code, body: null, headers },
  });
}

/** A handler failing with the given errors in turn, then answering. */
function failing(errors: unknown[]): UpstreamHandler & { calls: ConnectorCall[] } {
  const calls: ConnectorCall[] = [];
  const handler = async (attempt: ConnectorCall): Promise<ConnectorResult> => {
    calls.push(attempt);
    const error = errors.shift();
    if (error !== undefined) throw error;
    return { output: 'ok' };
  };
  return Object.assign(handler, { calls });
}

describe('retry policy', () => {
  test('retries a retryable failure of an idempotent operation until it succeeds', async () => {
    const next = failing([status(503), status(502)]);
    const result = await retryPolicy(options())(next)(call(), ctx);
    assert.equal(result.output, 'ok');
    assert.equal(next.calls.length, 3);
  });

  test('does not retry an operation that is not idempotent', async () => {
    const next = failing([status(503)]);
    await assert.rejects(retryPolicy(options())(next)(call({ operation: 'create' }), ctx), /503/);
    assert.equal(next.calls.length, 1);
  });

  test('does not retry a failure that is not retryable, unless its status is declared', async () => {
    const plain = failing([status(429)]);
    await assert.rejects(retryPolicy(options())(plain)(call(), ctx));
    assert.equal(plain.calls.length, 1);
    const declared = failing([status(429)]);
    await retryPolicy(options({ statuses: new Set([429]) }))(declared)(call(), ctx);
    assert.equal(declared.calls.length, 2);
  });

  test('stops after the configured attempts and throws the last failure', async () => {
    const next = failing([status(503), status(503), status(504), status(503)]);
    await assert.rejects(retryPolicy(options())(next)(call(), ctx), /504/);
    assert.equal(next.calls.length, 3);
  });

  test('waits at least the Retry-After the backend asked for', async () => {
    const next = failing([status(503, { 'retry-after': '1' })]);
    const started = Date.now();
    await retryPolicy(options())(next)(call(), ctx);
    assert.ok(Date.now() - started >= 990);
  });

  test('gives up when Retry-After is longer than maxRetryAfter', async () => {
    const next = failing([status(503, { 'retry-after': '60' })]);
    await assert.rejects(retryPolicy(options())(next)(call(), ctx), /503/);
    assert.equal(next.calls.length, 1);
  });

  test('does not start an attempt that cannot finish before the deadline', async () => {
    const next = failing([status(503, { 'retry-after': '1' })]);
    await assert.rejects(retryPolicy(options())(next)(call({ deadline: Date.now() + 200 }), ctx), /503/);
    assert.equal(next.calls.length, 1);
  });

  test('does not start an attempt with less time left than max(50 ms, its wait)', async () => {
    // 40 ms left: under the 50 ms floor, so no second attempt even without a wait.
    const short = failing([status(503)]);
    await assert.rejects(
      retryPolicy(options({ backoffMs: 0 }))(short)(call({ deadline: Date.now() + 40 }), ctx),
      /503/,
    );
    assert.equal(short.calls.length, 1);
    // A 99 ms wait with 150 ms left would leave 51 ms, under the wait: not made.
    const late = failing([status(503)]);
    await assert.rejects(
      retryPolicy(options({ random: () => 0.99, backoffMs: 100, maxBackoffMs: 100 }))(late)(
        call({ deadline: Date.now() + 150 }),
        ctx,
      ),
      /503/,
    );
    assert.equal(late.calls.length, 1);
    // Plenty of time: the retry is made.
    const plenty = failing([status(503)]);
    await retryPolicy(options({ backoffMs: 0 }))(plenty)(call({ deadline: Date.now() + 400 }), ctx);
    assert.equal(plenty.calls.length, 2);
  });

  test('gives each attempt min(step timeout, time left) computed afresh', async () => {
    const next = failing([status(503)]);
    const deadline = Date.now() + 300;
    await retryPolicy(options({ backoffMs: 0 }))(next)(
      call({ timeoutMs: 1000, deadlineBound: true, deadline }),
      ctx,
    );
    const second = next.calls[1]!;
    assert.equal(second.deadlineBound, true);
    assert.ok(second.timeoutMs <= 300 && second.timeoutMs > 0);
    const stepBound = failing([status(503)]);
    await retryPolicy(options({ backoffMs: 0 }))(stepBound)(
      call({ timeoutMs: 100, deadline: Date.now() + 5000 }),
      ctx,
    );
    assert.equal(stepBound.calls[1]!.timeoutMs, 100);
    assert.equal(stepBound.calls[1]!.deadlineBound, false);
  });

  test('stops waiting when the request is cancelled', async () => {
    const controller = new AbortController();
    const next = failing([status(503, { 'retry-after': '2' })]);
    const pending = retryPolicy(options())(next)(call({ signal: controller.signal }), ctx);
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, /503/);
    assert.equal(next.calls.length, 1);
  });

  test('a spent budget ends the retries', async () => {
    const budget = new RetryBudget(0, 1, 10_000);
    const first = failing([status(503)]);
    await retryPolicy(options({ budget }))(first)(call(), ctx);
    assert.equal(first.calls.length, 2);
    const second = failing([status(503)]);
    await assert.rejects(retryPolicy(options({ budget }))(second)(call(), ctx));
    assert.equal(second.calls.length, 1);
  });
});

describe('retry budget', () => {
  test('allows ratio × calls retries over the window, or the floor when larger', () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 2, 10_000, () => now);
    for (let i = 0; i < 20; i++) budget.recordCall();
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    assert.equal(granted, 4);
    now = 11_000; // the window has passed: only the floor is left
    const later = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    assert.equal(later, 2);
  });
});

test('Retry-After reads delay-seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  const inTwo = new Date(Date.now() + 2000).toUTCString();
  const ms = parseRetryAfter(inTwo)!;
  assert.ok(ms > 0 && ms <= 2000);
  assert.equal(parseRetryAfter('soon'), undefined);
});
