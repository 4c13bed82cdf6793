/** The `http` connector kind: REST/JSON backends over the HTTP transport. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { httpServiceSchema } from './schema.ts';

export const httpConnector: ConnectorModule<typeof httpServiceSchema> = {
  kind: 'http',
  summary: 'A REST/JSON backend: named operations on paths below one or several base URLs.',
  schema: httpServiceSchema,
  capabilities: { http: true, rawPassthrough: true, standingConnection: false },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./http-connector.ts')).createHttpConnector(config, ctx),
};
