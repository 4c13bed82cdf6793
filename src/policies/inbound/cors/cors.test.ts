import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type {
  InboundContext,
  InboundHandler,
  InboundPolicyContext,
  PreflightHandler,
  Reply,
} from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { policyMetrics } from '../../../observability/metrics.ts';
import { corsPolicy } from './index.ts';
import { corsPolicySchema } from './schema.ts';

const factoryContext = {
  logger: pino({ level: 'silent' }),
  baseDir: '.',
  issue: () => assert.fail('no issue expected'),
  telemetry: policyMetrics,
  shared: undefined,
  method: 'PUT',
  path: '/thing',
  endpointId: 'putThing',
  at: ['policies', 'cors'],
} satisfies InboundPolicyContext;

// The module gives the preflight beside the policy; the tests find it by the handler.
const preflights = new WeakMap<InboundHandler, PreflightHandler>();
const preflightOf = (handler: InboundHandler) => preflights.get(handler);

function build(config: unknown, terminal: () => Promise<Reply>) {
  const built = corsPolicy.create(corsPolicySchema.parse(config), factoryContext)!;
  const handler = built.wrap(terminal);
  if (built.preflight) preflights.set(handler, built.preflight);
  return handler;
}

const request = (origin?: string) => ({ headers: origin ? { origin } : {} }) as unknown as InboundContext;

test('an allowed origin gets its own origin back and Vary is added to the answer', async () => {
  const handler = build({ origins: ['https://a.test'] }, async () => ({
    status: 200,
    headers: { vary: 'Accept' },
  }));
  const reply = await handler(request('https://a.test'));
  assert.equal(reply.headers?.['access-control-allow-origin'], 'https://a.test');
  assert.equal(reply.headers?.vary, 'Accept, Origin');
  const other = await handler(request('https://b.test'));
  assert.equal(other.headers?.['access-control-allow-origin'], undefined);
});

test('the CORS headers are added to an error on its way out', async () => {
  const handler = build({ origins: ['*'] }, async () => {
    throw new ChorusError('CHORUS_RATE_LIMITED', 'slow down', { headers: { 'retry-after': '3' } });
  });
  const error = await handler(request('https://x.test')).then(
    () => assert.fail('expected a rejection'),
    (thrown: ChorusError) => thrown,
  );
  assert.deepEqual(error.headers?.['access-control-allow-origin'], '*');
  assert.equal(error.headers?.['retry-after'], '3');
});

test('the preflight names the endpoint method and refuses unknown headers', () => {
  const handler = build({ origins: ['https://a.test'], allowHeaders: ['content-type'] }, async () => ({
    status: 200,
  }));
  const preflight = preflightOf(handler)!;
  const reply = preflight({ origin: 'https://a.test', 'access-control-request-method': 'PUT' });
  assert.equal(reply.status, 204);
  assert.equal(reply.headers?.['access-control-allow-methods'], 'PUT');
  assert.throws(
    () => preflight({ origin: 'https://a.test', 'access-control-request-headers': 'x-other' }),
    (error: ChorusError) => error.code === 'CHORUS_CORS_REJECTED',
  );
});

test('"*" with credentials is refused by the schema', () => {
  assert.equal(corsPolicySchema.safeParse({ origins: ['*'], credentials: true }).success, false);
});
