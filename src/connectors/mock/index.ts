/** The `mock` connector kind: operations answering from templates or files, for API-first work. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { createMockConnector } from './mock-connector.ts';
import { mockServiceSchema } from './schema.ts';

export const mockConnector: ConnectorModule<typeof mockServiceSchema> = {
  kind: 'mock',
  summary:
    'A service that does not exist yet: operations answer from templates or files, with latency and failures.',
  schema: mockServiceSchema,
  capabilities: { http: false, rawPassthrough: false, standingConnection: false },
  create: createMockConnector,
};
