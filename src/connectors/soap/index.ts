/** The `soap` connector kind: SOAP 1.1 and 1.2 services described by a WSDL. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { soapServiceSchema } from './schema.ts';

export const soapConnector: ConnectorModule<typeof soapServiceSchema> = {
  kind: 'soap',
  summary: 'A SOAP 1.1 or 1.2 service: the operations of its WSDL, called with JSON in and out.',
  schema: soapServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./soap-connector.ts')).createSoapConnector(config, ctx),
};
