/** The soap connector kind: SOAP 1.1/1.2 described by a WSDL. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { soapServiceSchema } from './schema.ts';
import { createSoapConnector } from './soap-connector.ts';

export const soapConnector: ConnectorModule<typeof soapServiceSchema> = {
  kind: 'soap',
  summary: 'SOAP 1.1/1.2 described by a WSDL',
  schema: soapServiceSchema,
  capabilities: { http: true, rawPassthrough: false, standingConnection: false },
  create: createSoapConnector,
};
