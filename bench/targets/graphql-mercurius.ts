/** The composing peer: a GraphQL gateway (mercurius) over the same backends. */
import { missingPackage } from '../lib/tools.ts';
import { startNodeServer } from './node-server.ts';
import type { Target } from './types.ts';

export const graphqlMercuriusTarget: Target = {
  name: 'graphql-mercurius',
  description: 'GraphQL gateway: Fastify + mercurius (graphql-jit) resolvers over the same backends',
  unavailable: (scenario) =>
    missingPackage('mercurius', 'mercurius graphql fastify') ??
    (scenario.graphql ? undefined : 'no GraphQL form of this scenario'),
  start: (context) =>
    startNodeServer(context, {
      name: 'graphql-mercurius',
      script: 'graphql-mercurius-server.ts',
      request: {
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: context.scenario.graphql!.query }),
      },
      unwrap: context.scenario.graphql!.unwrap,
    }),
};
