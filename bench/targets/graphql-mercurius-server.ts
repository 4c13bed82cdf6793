/**
 * A GraphQL gateway composing the same backends: Fastify + mercurius, graphql-jit on (jit: 1),
 * resolvers calling the backends with undici Pool.request. The composing peer for the aggregation
 * scenarios: it does what a flow does (parallel siblings, dependent nested fields, lists).
 */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { Pool } from 'undici';
import { loadScenario } from '../scenarios/index.ts';
import type { BackendUrls } from '../scenarios/types.ts';
import { serverArgs } from './node-server.ts';

const args = serverArgs();
const scenario = loadScenario(args.scenario);
if (!scenario.graphql) throw new Error(`scenario ${scenario.ref.name} has no GraphQL form`);
const poolOptions = { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 };
const pools: Partial<Record<keyof BackendUrls, Pool>> = {
  static: new Pool(args.backends.static, poolOptions),
};
if (args.backends.delay) pools.delay = new Pool(args.backends.delay, poolOptions);

async function get(backend: keyof BackendUrls, path: string): Promise<unknown> {
  const { statusCode, body } = await pools[backend]!.request({ path, method: 'GET' });
  if (statusCode < 200 || statusCode > 299) {
    await body.dump();
    throw new Error(`upstream ${path} answered ${statusCode}`);
  }
  return body.json();
}

const app = Fastify({ logger: false });
await app.register(mercurius, {
  schema: scenario.graphql.schema,
  resolvers: scenario.graphql.resolvers(get) as never,
  jit: 1,
});
await app.listen({ port: args.port, host: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
