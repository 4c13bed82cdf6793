import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { ServiceConfig } from '../../config/schema.ts';
import type { CallContext, Connector, ConnectorCall } from '../../contracts/connector.ts';
import type { UpstreamHandler } from '../../contracts/policy.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { serviceSchema, UPSTREAM_POLICIES as upstreamPolicyModules } from '../../modules.ts';
import { policyMetrics } from '../../observability/metrics.ts';
import { composePolicies } from '../compose.ts';
import { buildUpstreamStack } from './stack.ts';

const logger = pino({ level: 'silent' });
const ctx: CallContext = { requestId: 'r1', logger };

interface Operation {
  name: string;
  idempotent?: boolean;
  operationType?: string;
}

function connector(operations: Operation[]): Connector {
  return {
    kind: 'http',
    service: 'svc',
    call: async () => ({ output: null }),
    describe: () =>
      operations.map((operation) => ({
        ...operation,
        idempotent: operation.idempotent ?? operation.operationType === 'query',
        requiredParams: [],
      })),
    close: async () => {},
  };
}

function compile(config: unknown, operations: Operation[] = [{ name: 'get', idempotent: true }]) {
  const issues: string[] = [];
  const parsed = serviceSchema.parse(config) as ServiceConfig;
  const target = connector(operations);
  const stack = buildUpstreamStack(upstreamPolicyModules, parsed, {
    logger,
    baseDir: '.',
    issue: (at, message) => {
      issues.push(`${at.join('.')}: ${message}`);
    },
    service: 'svc',
    connector: target,
    telemetry: policyMetrics,
  });
  return { policies: stack.policies, issues, target, status: stack.status };
}

const call: ConnectorCall = {
  operation: 'get',
  input: {},
  headers: {},
  signal: new AbortController().signal,
  timeoutMs: 1000,
  deadlineBound: false,
  deadline: Date.now() + 60_000,
};

const base = { kind: 'http', url: 'http://127.0.0.1:1', operations: { get: {} } };

describe('upstream policies', () => {
  test('a service without upstream settings has no policies', () => {
    assert.equal(compile(base).policies.length, 0);
  });

  test('order: credentials, then retry, then breaker (each attempt counts), then bulkhead', async () => {
    const { policies } = compile({
      ...base,
      auth: { type: 'apiKey', key: 'k' },
      retry: { attempts: 3, backoff: 0 },
      circuitBreaker: { consecutiveFailures: 2 },
      bulkhead: { maxConcurrent: 1 },
    });
    assert.equal(policies.length, 4);
    const attempts: ConnectorCall[] = [];
    const terminal: UpstreamHandler = async (sent) => {
      attempts.push(sent);
      throw new ChorusError('CHORUS_UPSTREAM_STATUS', 'answered 503', {
        retryable: true,
        extras: { service: 'svc', operation: 'get', upstreamStatus: 503 },
      });
    };
    const handler = composePolicies(policies, terminal);
    const error = await handler(call, ctx).catch((caught: unknown) => caught);
    // Two attempts open the breaker; the third is refused by it and not retried.
    assert.equal(attempts.length, 2);
    assert.ok(error instanceof ChorusError);
    assert.equal(error.code, 'CHORUS_CIRCUIT_OPEN');
    // Credentials were added before the retries: every attempt carries them.
    assert.ok(attempts.every((attempt) => attempt.headers['x-api-key'] === 'k'));
  });

  test('status of a service: breaker state and bulkhead use', () => {
    const compiled = compile({ ...base, circuitBreaker: {}, bulkhead: { maxConcurrent: 3 } });
    const status = compiled.status();
    assert.equal(status.breaker?.state, 'closed');
    assert.deepEqual(status.bulkhead, { active: 0, queued: 0, maxConcurrent: 3 });
  });

  test('an unknown operation declared idempotent is a load issue', () => {
    const { issues } = compile({ ...base, retry: { idempotentOperations: ['nope'] } });
    assert.deepEqual(issues, [
      'services.svc.retry.idempotentOperations.0: service "svc" has no operation "nope"',
    ]);
  });

  test('graphql queries are retried, mutations are not', async () => {
    const { policies } = compile({ ...base, retry: { attempts: 2, backoff: 0 } }, [
      { name: 'get', operationType: 'query' } as { name: string },
      { name: 'change', operationType: 'mutation' } as { name: string },
    ]);
    let calls = 0;
    const handler = composePolicies(policies, async () => {
      calls++;
      throw new ChorusError('CHORUS_UPSTREAM_TRANSPORT', 'down', { retryable: true });
    });
    await assert.rejects(handler(call, ctx));
    assert.equal(calls, 2);
    await assert.rejects(handler({ ...call, operation: 'change' }, ctx));
    assert.equal(calls, 3);
  });
});

describe('the module list', () => {
  test("a service's stack reports its breaker and bulkhead in status()", () => {
    const target = connector([{ name: 'get', idempotent: true }]);
    const parsed = serviceSchema.parse({ ...base, circuitBreaker: {}, bulkhead: { maxConcurrent: 2 } });
    const stack = buildUpstreamStack(upstreamPolicyModules, parsed, {
      logger,
      baseDir: '.',
      issue: () => assert.fail('no issue expected'),
      service: 'svc',
      connector: target,
      telemetry: policyMetrics,
    });
    assert.equal(stack.policies.length, 2);
    assert.deepEqual(stack.status().bulkhead, { active: 0, queued: 0, maxConcurrent: 2 });
    const bare = buildUpstreamStack(upstreamPolicyModules, serviceSchema.parse(base), {
      logger,
      baseDir: '.',
      issue: () => assert.fail('no issue expected'),
      service: 'svc',
      connector: connector([]),
      telemetry: policyMetrics,
    });
    assert.deepEqual(bare.status(), { service: 'svc' });
  });

  test('the modules are ordered httpCache, credentials, retry, circuitBreaker, bulkhead', () => {
    const names = [...upstreamPolicyModules].sort((a, b) => a.order - b.order).map((module) => module.name);
    assert.deepEqual(names, ['httpCache', 'auth', 'retry', 'circuitBreaker', 'bulkhead']);
  });
});
