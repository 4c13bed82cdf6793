/** The amqp connector kind: RPC and publish over AMQP 0-9-1 (RabbitMQ). */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createAmqpConnector } from './amqp-connector.ts';
import { amqpServiceSchema } from './schema.ts';

export const amqpConnector: ConnectorModule<typeof amqpServiceSchema> = {
  kind: 'amqp',
  summary: 'RPC and publish over AMQP 0-9-1 (RabbitMQ)',
  schema: amqpServiceSchema,
  capabilities: { http: false, rawPassthrough: false, standingConnection: true },
  create: createAmqpConnector,
};
