/** The nats connector kind: request/reply and publish over NATS. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { natsServiceSchema } from './schema.ts';

export const natsConnector: ConnectorModule<typeof natsServiceSchema> = {
  kind: 'nats',
  summary: 'A service behind a NATS server: request/reply and publish on subjects.',
  schema: natsServiceSchema,
  // A JSON reply a call only forwards comes back undecoded (ConnectorCall.raw); the connection is kept
  // up in the background and /readyz waits for it.
  capabilities: { http: false, rawPassthrough: true, standingConnection: true },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./nats-connector.ts')).createNatsConnector(config, ctx),
};
