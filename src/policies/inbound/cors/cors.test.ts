import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { InboundContext, Reply } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import type { InboundPolicyContext } from '../../inbound.ts';
import { createCorsPolicy, preflightOf } from './cors.ts';
import { corsPolicySchema } from './schema.ts';

const factoryContext = {
  logger: pino({ level: 'silent' }),
  baseDir: '.',
  issue: () => assert.fail('no issue expected'),
  endpoint: { method: 'PUT' },
  endpointId: 'putThing',
  at: ['policies', 'cors'],
} as unknown as InboundPolicyContext;

function build(config: unknown, terminal: () => Promise<Reply>) {
  const policy = createCorsPolicy(corsPolicySchema.parse(config), factoryContext)!;
  return policy(terminal);
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
