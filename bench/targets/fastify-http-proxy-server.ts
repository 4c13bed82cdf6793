/** Fastify + @fastify/http-proxy (undici via @fastify/reply-from), logging off. */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { loadScenario } from '../scenarios/index.ts';
import { serverArgs } from './node-server.ts';

const args = serverArgs();
const scenario = loadScenario(args.scenario);
const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: args.backends.static,
  prefix: scenario.path,
  rewritePrefix: scenario.upstreamPath!,
});
await app.listen({ port: args.port, host: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0));
