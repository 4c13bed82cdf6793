import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { CallContext, ConnectorCall } from '../../../contracts/connector.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { policyMetrics } from '../../../observability/metrics.ts';
import {
  type BreakerOptions,
  CircuitBreaker,
  circuitBreakerPolicy,
  PROBE,
  REFUSED,
} from './circuit-breaker.ts';

const ctx: CallContext = { requestId: 'r1', logger: pino({ level: 'silent' }) };
const call: ConnectorCall = {
  operation: 'get',
  input: {},
  headers: {},
  signal: new AbortController().signal,
  timeoutMs: 1000,
  deadlineBound: false,
};

function breaker(overrides: Partial<BreakerOptions> = {}) {
  const clock = { now: 1_000_000 };
  const instance = new CircuitBreaker({
    service: 'svc',
    failureRatio: 0.5,
    minimumCalls: 10,
    windowMs: 10_000,
    consecutiveFailures: 100,
    cooldownMs: 5000,
    halfOpenProbes: 1,
    telemetry: policyMetrics,
    now: () => clock.now,
    ...overrides,
  });
  return { instance, clock };
}

const down = new ChorusError('CHORUS_UPSTREAM_STATUS', 'answered 503', {
  extras: { service: 'svc', operation: 'get', upstreamStatus: 503 },
});
const notFound = new ChorusError('CHORUS_UPSTREAM_STATUS', 'answered 404', {
  extras: { service: 'svc', operation: 'get', upstreamStatus: 404 },
});

describe('circuit breaker', () => {
  test('opens when the failure rate passes the threshold over the minimum calls', () => {
    const { instance } = breaker();
    for (let i = 0; i < 5; i++) instance.onSuccess();
    for (let i = 0; i < 4; i++) instance.onFailure();
    assert.equal(instance.state, 'closed'); // 9 calls: under the minimum
    instance.onFailure();
    assert.equal(instance.state, 'open'); // 5 of 10 failed
    assert.equal(instance.tryAcquire(), REFUSED);
  });

  test('a slow call let through before the breaker opened does not count as a probe', () => {
    const { instance, clock } = breaker({ consecutiveFailures: 1 });
    const slow = instance.tryAcquire();
    instance.onFailure();
    clock.now += 5000;
    assert.equal(instance.tryAcquire(), PROBE);
    instance.onSuccess(slow);
    assert.equal(instance.state, 'half-open');
    assert.equal(instance.tryAcquire(), REFUSED);
  });

  test('opens on consecutive failures whatever the rate', () => {
    const { instance } = breaker({ consecutiveFailures: 3 });
    for (let i = 0; i < 50; i++) instance.onSuccess();
    instance.onFailure();
    instance.onFailure();
    assert.equal(instance.state, 'closed');
    instance.onFailure();
    assert.equal(instance.state, 'open');
  });

  test('failures older than the window are forgotten', () => {
    const { instance, clock } = breaker();
    for (let i = 0; i < 9; i++) instance.onFailure();
    clock.now += 11_000;
    instance.onFailure();
    assert.equal(instance.state, 'closed');
  });

  test('after the cooldown lets one probe through; its success closes the breaker', () => {
    const { instance, clock } = breaker({ consecutiveFailures: 1 });
    instance.onFailure();
    assert.equal(instance.tryAcquire(), REFUSED);
    clock.now += 5000;
    assert.equal(instance.state, 'half-open');
    assert.equal(instance.tryAcquire(), PROBE);
    assert.equal(instance.tryAcquire(), REFUSED); // one probe at a time
    instance.onSuccess(PROBE);
    assert.equal(instance.state, 'closed');
    assert.notEqual(instance.tryAcquire(), REFUSED);
  });

  test('a failed probe opens the breaker for another cooldown', () => {
    const { instance, clock } = breaker({ consecutiveFailures: 1 });
    instance.onFailure();
    clock.now += 5000;
    assert.equal(instance.tryAcquire(), PROBE);
    instance.onFailure(PROBE);
    assert.equal(instance.state, 'open');
    assert.equal(instance.retryAfterMs(), 5000);
  });

  test('as a policy: refuses calls while open with CHORUS_CIRCUIT_OPEN, Retry-After and the service name', async () => {
    const { instance } = breaker({ consecutiveFailures: 2 });
    let calls = 0;
    const handler = circuitBreakerPolicy(instance)(async () => {
      calls++;
      throw down;
    });
    await assert.rejects(handler(call, ctx), /503/);
    await assert.rejects(handler(call, ctx), /503/);
    const refused = await handler(call, ctx).catch((error: unknown) => error);
    assert.ok(refused instanceof ChorusError);
    assert.equal(refused.code, 'CHORUS_CIRCUIT_OPEN');
    assert.equal(refused.status, 503);
    assert.equal(refused.extras.service, 'svc');
    assert.equal(refused.headers?.['retry-after'], '5');
    assert.equal(calls, 2);
  });

  test('as a policy: a 4xx answer counts as the backend being up', async () => {
    const { instance } = breaker({ consecutiveFailures: 2 });
    const handler = circuitBreakerPolicy(instance)(async () => {
      throw notFound;
    });
    for (let i = 0; i < 5; i++) await assert.rejects(handler(call, ctx));
    assert.equal(instance.state, 'closed');
  });

  test('status() gives the state and the window counts', () => {
    const { instance } = breaker();
    instance.onSuccess();
    instance.onFailure();
    assert.deepEqual(instance.status(), { service: 'svc', state: 'closed', calls: 2, failures: 1 });
  });
});
