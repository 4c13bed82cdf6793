/** The amqp connector kind: RPC and publish over AMQP 0-9-1 (RabbitMQ). */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { amqpServiceSchema } from './schema.ts';

export const amqpConnector: ConnectorModule<typeof amqpServiceSchema> = {
  kind: 'amqp',
  summary: 'A service behind an AMQP 0-9-1 broker (RabbitMQ): RPC with replies, and publish.',
  schema: amqpServiceSchema,
  // A JSON reply a call only forwards comes back undecoded (ConnectorCall.raw); the connection and its
  // channels are kept up in the background and /readyz waits for them.
  capabilities: { http: false, rawPassthrough: true, standingConnection: true },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./amqp-connector.ts')).createAmqpConnector(config, ctx),
};
