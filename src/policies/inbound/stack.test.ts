import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import type { ConfigPath } from '../../contracts/issues.ts';
import type { InboundContext, InboundHandler, InboundPolicyModule, Reply } from '../../contracts/policy.ts';
import { INBOUND_POLICIES as inboundPolicyModules } from '../../modules.ts';
import { policyMetrics } from '../../observability/metrics.ts';
import { composePolicies } from '../compose.ts';
import type { PolicyRuntime } from '../shared.ts';
import { buildInboundStack, endpointPoliciesSchemaOf, type InboundModule } from './stack.ts';

const base = { logger: pino({ level: 'silent' }), baseDir: '.', telemetry: policyMetrics };

/** A module that records where it was built and tags the answer with its name. */
function tagging(name: string, order: number, built: { name: string; at: ConfigPath }[]): InboundModule {
  const module: InboundPolicyModule<z.ZodType<string>> = {
    name,
    order,
    schema: z.string(),
    create: (config, ctx) => {
      built.push({ name: `${name}:${config}`, at: ctx.at });
      return {
        wrap: (next) => async (request) => {
          const reply = await next(request);
          return { ...reply, body: [name, ...(reply.body as string[])] };
        },
      };
    },
  };
  return module;
}

test('the stack is ordered by the modules, not the list; an own entry replaces the default; false is off', async () => {
  const built: { name: string; at: ConfigPath }[] = [];
  const modules: InboundModule[] = [
    tagging('inner', 30, built),
    tagging('outer', 10, built),
    tagging('off', 25, built),
    { name: 'always', order: 20, builtIn: true, create: () => ({ wrap: (next: InboundHandler) => next }) },
  ];
  const stack = buildInboundStack(
    modules,
    { inner: 'own', off: false },
    { inner: 'default', outer: 'default', off: 'default' },
    {
      ...base,
      issue: () => assert.fail('no issue expected'),
      shared: undefined,
      endpointId: 'getThing',
      method: 'GET',
      path: '/thing',
      endpointAt: ['endpoints', 4],
    },
  );
  assert.deepEqual(built, [
    { name: 'outer:default', at: ['policies', 'outer'] },
    { name: 'inner:own', at: ['endpoints', 4, 'policies', 'inner'] },
  ]);
  assert.equal(stack.policies.length, 3);
  assert.equal(stack.preflight, undefined);
  const handler = composePolicies(stack.policies, async (): Promise<Reply> => ({ status: 200, body: [] }));
  assert.deepEqual((await handler({} as InboundContext)).body, ['outer', 'inner']);
});

test('the gateway modules are ordered cors, ipFilter, auth, plan limits, rateLimit, quota, cache', () => {
  const names = [...inboundPolicyModules].sort((a, b) => a.order - b.order).map((module) => module.name);
  assert.deepEqual(names, ['cors', 'ipFilter', 'auth', 'planLimits', 'rateLimit', 'quota', 'cache']);
});

test('the endpoint policies schema has a key per configurable module, in stack order, each off with false', () => {
  const schema = endpointPoliciesSchemaOf(inboundPolicyModules);
  assert.deepEqual(Object.keys(schema.shape), ['cors', 'ipFilter', 'auth', 'rateLimit', 'quota', 'cache']);
  assert.equal(schema.safeParse({ auth: false, cors: { origins: ['*'] } }).success, true);
  assert.equal(schema.safeParse({ planLimits: {} }).success, false);
  assert.match(schema.description ?? '', /cors, ipFilter, auth, rateLimit, quota, cache\.$/);
});

test('the CORS preflight comes back from the stack beside its policies', () => {
  const runtime = { plans: {}, stores: {} } as unknown as PolicyRuntime;
  const endpoint = { method: 'PATCH', path: '/thing', policies: { cors: { origins: ['*'] } } };
  const policies = endpointPoliciesSchemaOf(inboundPolicyModules).parse(endpoint.policies);
  const stack = buildInboundStack(
    inboundPolicyModules,
    policies,
    {},
    {
      ...base,
      issue: () => assert.fail('no issue expected'),
      shared: runtime,
      endpointId: 'patchThing',
      method: endpoint.method,
      path: endpoint.path,
      endpointAt: ['endpoints', 0],
    },
  );
  assert.equal(stack.policies.length, 1);
  const preflight = stack.preflight;
  assert.ok(preflight);
  const reply = preflight({ origin: 'https://a.test', 'access-control-request-method': 'PATCH' });
  assert.equal(reply.headers?.['access-control-allow-methods'], 'PATCH');
  assert.equal(reply.headers?.['access-control-max-age'], '600');
});
