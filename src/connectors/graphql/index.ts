/** The `graphql` connector kind: query and mutation documents against a GraphQL endpoint. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { graphqlServiceSchema } from './schema.ts';

export const graphqlConnector: ConnectorModule<typeof graphqlServiceSchema> = {
  kind: 'graphql',
  summary: 'A GraphQL endpoint: named query and mutation documents, checked at load against its schema.',
  schema: graphqlServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./graphql-connector.ts')).createGraphqlConnector(config, ctx),
};
