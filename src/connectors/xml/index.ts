/** The `xml` connector kind: plain XML-over-HTTP backends (legacy XML APIs, RSS and Atom feeds). */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { xmlServiceSchema } from './schema.ts';

export const xmlConnector: ConnectorModule<typeof xmlServiceSchema> = {
  kind: 'xml',
  summary: 'A plain XML-over-HTTP backend (legacy XML APIs, RSS and Atom feeds), read and written as JSON.',
  schema: xmlServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./xml-connector.ts')).createXmlConnector(config, ctx),
};
