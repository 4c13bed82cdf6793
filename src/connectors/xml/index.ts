/** The xml connector kind: plain XML over HTTP(S). */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { xmlServiceSchema } from './schema.ts';
import { createXmlConnector } from './xml-connector.ts';

export const xmlConnector: ConnectorModule<typeof xmlServiceSchema> = {
  kind: 'xml',
  summary: 'plain XML over HTTP(S)',
  schema: xmlServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  create: createXmlConnector,
};
