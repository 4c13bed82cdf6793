/** The grpc connector kind: unary gRPC calls described by .proto files. */
import type { ConnectorModule } from '../../contracts/connector.ts';
import { grpcServiceSchema } from './schema.ts';

export const grpcConnector: ConnectorModule<typeof grpcServiceSchema> = {
  kind: 'grpc',
  summary: 'A gRPC service: the unary methods of its .proto files, called with JSON messages.',
  schema: grpcServiceSchema,
  // Answers are always decoded from protobuf (no raw passthrough); the channel connects lazily, on the
  // first call, so readiness never waits for it.
  capabilities: { http: false, rawPassthrough: false, standingConnection: false },
  // The implementation (and its libraries) is imported when a service of this kind is built, not at start.
  create: async (config, ctx) => (await import('./grpc-connector.ts')).createGrpcConnector(config, ctx),
};
