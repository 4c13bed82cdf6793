/** The graphql connector kind: GraphQL over HTTP(S). */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createGraphqlConnector } from './graphql-connector.ts';
import { graphqlServiceSchema } from './schema.ts';

export const graphqlConnector: ConnectorModule<typeof graphqlServiceSchema> = {
  kind: 'graphql',
  summary: 'GraphQL over HTTP(S)',
  schema: graphqlServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  create: createGraphqlConnector,
};
