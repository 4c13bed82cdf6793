/** The http connector kind: REST/JSON over HTTP(S). */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createHttpConnector } from './http-connector.ts';
import { httpServiceSchema } from './schema.ts';

export const httpConnector: ConnectorModule<typeof httpServiceSchema> = {
  kind: 'http',
  summary: 'REST/JSON over HTTP(S)',
  schema: httpServiceSchema,
  capabilities: { http: true, rawPassthrough: true, standingConnection: false },
  create: createHttpConnector,
};
