/** @fastify/http-proxy on Fastify. */
import { missingPackage } from '../lib/tools.ts';
import { startNodeServer } from './node-server.ts';
import type { Target } from './types.ts';

export const fastifyHttpProxyTarget: Target = {
  name: 'fastify-http-proxy',
  description: 'Fastify 5 + @fastify/http-proxy (undici)',
  unavailable: (scenario) =>
    missingPackage('@fastify/http-proxy', '@fastify/http-proxy fastify') ??
    (scenario.upstreamPath ? undefined : 'plain proxy only: cannot compose calls'),
  start: (context) =>
    startNodeServer(context, { name: 'fastify-http-proxy', script: 'fastify-http-proxy-server.ts' }),
};
