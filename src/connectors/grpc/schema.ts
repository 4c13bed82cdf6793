/** The config of a `grpc` service: the unary methods of one service declared in .proto files. */
import { z } from 'zod';
import { durationMsSchema, sizeBytesSchema } from '../../config/schema-parts.ts';

/** One operation of a gRPC service: a unary method of the service, by its name in the .proto. */
export const grpcOperationSchema = z
  .strictObject({
    summary: z.string().optional().describe('One line saying what the operation does.'),
    withMetadata: z
      .boolean()
      .default(false)
      .describe(
        'Whether the step output is {message, metadata} (the response headers and trailers) instead of the message alone.',
      ),
  })
  .describe('A unary method of a gRPC service.');

/** TLS settings of the channel. */
export const grpcTlsSchema = z
  .strictObject({
    ca: z
      .string()
      .optional()
      .describe(
        'PEM file of the CAs that sign the server certificate, relative to the config (default: the system CAs).',
      ),
    cert: z.string().optional().describe('PEM file of the client certificate, for mutual TLS; needs key.'),
    key: z.string().optional().describe('PEM file of the client private key, for mutual TLS; needs cert.'),
    insecure: z
      .boolean()
      .default(false)
      .describe(
        'Accept any server certificate (testing only: the connection is encrypted but not authenticated).',
      ),
  })
  .describe('TLS of the channel; setting it (or a grpcs:// url) turns TLS on.');

/** A gRPC backend: one service of one server, its methods read from .proto files at load. */
export const grpcServiceSchema = z
  .strictObject({
    kind: z.literal('grpc').describe('The connector: grpc.'),
    url: z
      .string()
      .regex(
        /^(?:grpcs?:\/\/)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
        'expected host:port, grpc://host:port or grpcs://host:port',
      )
      .describe(
        'The server: host:port or grpc://host:port (plaintext unless tls is set), grpcs://host:port (TLS).',
      ),
    description: z.string().optional().describe('What the service is, for the portal.'),
    proto: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('The .proto file (or files) declaring the service, relative to the config file.'),
    includeDirs: z
      .array(z.string().min(1))
      .optional()
      .describe('Directories searched for imports of the .proto files, relative to the config file.'),
    service: z
      .string()
      .regex(
        /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/,
        'expected a fully qualified service name, e.g. catalog.v1.Catalog',
      )
      .describe('The fully qualified service name, e.g. catalog.v1.Catalog.'),
    tls: grpcTlsSchema.optional(),
    timeout: durationMsSchema
      .optional()
      .describe('Deadline of each call (default 10s); the request deadline still applies.'),
    metadata: z
      .record(z.string(), z.string())
      .optional()
      .describe('Metadata sent on every call (e.g. authorization); keys are lowercase ASCII.'),
    maxResponseBytes: sizeBytesSchema.prefault('4mb').describe('Largest response message accepted.'),
    operations: z
      .record(
        z.string().regex(/^[A-Za-z_]\w*$/, 'operation names are method names of the service'),
        grpcOperationSchema,
      )
      // {} rather than undefined when absent: a service offers no call without operations anyway.
      .default({})
      .describe('The methods flows may call, by name (absent or empty: every unary method of the service).'),
  })
  .describe('A gRPC service.');

export type GrpcServiceConfig = z.output<typeof grpcServiceSchema>;
export type GrpcOperationConfig = z.output<typeof grpcOperationSchema>;
