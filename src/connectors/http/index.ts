/** The `http` connector kind: REST/JSON backends over the HTTP transport. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createHttpConnector } from './http-connector.ts';
import { httpServiceSchema } from './schema.ts';

export const httpConnector: ConnectorModule<typeof httpServiceSchema> = {
  kind: 'http',
  summary: 'A REST/JSON backend: named operations on paths below one or several base URLs.',
  schema: httpServiceSchema,
  capabilities: { http: true, rawPassthrough: true, standingConnection: false },
  create: createHttpConnector,
};
