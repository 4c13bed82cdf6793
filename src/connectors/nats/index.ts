/** The nats connector kind: request/reply and publish over NATS. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createNatsConnector } from './nats-connector.ts';
import { natsServiceSchema } from './schema.ts';

export const natsConnector: ConnectorModule<typeof natsServiceSchema> = {
  kind: 'nats',
  summary: 'request/reply and publish over NATS',
  schema: natsServiceSchema,
  capabilities: { http: false, rawPassthrough: false, standingConnection: true },
  create: createNatsConnector,
};
