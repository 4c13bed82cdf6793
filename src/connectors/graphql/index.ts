/** The `graphql` connector kind: query and mutation documents against a GraphQL endpoint. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createGraphqlConnector } from './graphql-connector.ts';
import { graphqlServiceSchema } from './schema.ts';

export const graphqlConnector: ConnectorModule<typeof graphqlServiceSchema> = {
  kind: 'graphql',
  summary: 'A GraphQL endpoint: named query and mutation documents, checked at load against its schema.',
  schema: graphqlServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  create: createGraphqlConnector,
};
