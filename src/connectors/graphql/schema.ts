/** The config of a `graphql` service: a GraphQL endpoint with named query and mutation documents. */
import { z } from 'zod';
import { durationMsSchema, sizeBytesSchema, staticHeadersSchema } from '../../config/schema-parts.ts';
import { urlServiceFields } from '../../transports/http/schema.ts';

/** One operation of a GraphQL service: a document, inline or in a file, and how its errors read. */
export const graphqlOperationSchema = z
  .strictObject({
    query: z
      .string()
      .min(1)
      .optional()
      .describe('The GraphQL document (a query or a mutation), inline; give this or file.'),
    file: z
      .string()
      .min(1)
      .optional()
      .describe('Path of a file holding the document, relative to the config file; give this or query.'),
    operationName: z
      .string()
      .regex(/^[_A-Za-z][_0-9A-Za-z]*$/, 'expected a GraphQL name')
      .optional()
      .describe('Which operation of the document runs, when it holds several.'),
    errors: z
      .enum(['fail', 'partial'])
      .default('fail')
      .describe(
        'GraphQL errors in an answer: fail the step (fail), or return {data, errors} when data is not null (partial).',
      ),
    summary: z.string().optional().describe('One line saying what the operation does.'),
  })
  .describe('An operation of a GraphQL service.');

/** A GraphQL backend reached over HTTP(S). */
export const graphqlServiceSchema = z
  .strictObject({
    kind: z.literal('graphql').describe('The connector: graphql.'),
    url: z
      .string()
      .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'expected an http:// or https:// URL without query')
      .optional()
      .describe(
        'URL of the GraphQL endpoint (e.g. http://host:4000/graphql); documents are POSTed to it. Give url or urls.',
      ),
    description: z.string().optional().describe('What the service is, for the portal.'),
    timeout: durationMsSchema
      .optional()
      .describe('Timeout of each call (default 10s); the request deadline still applies.'),
    headers: staticHeadersSchema.optional().describe('Headers sent on every call (e.g. credentials).'),
    maxResponseBytes: sizeBytesSchema.prefault('10mb').describe('Largest response body accepted.'),
    connections: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(128)
      .describe('Most pooled keep-alive connections to the endpoint.'),
    keepAliveTimeout: durationMsSchema.prefault('4s').describe('How long an idle pooled connection is kept.'),
    introspect: z
      .boolean()
      .default(true)
      .describe(
        'At load, ask the service for its schema and validate every document against it (skipped with a warning when introspection is off or the service unreachable).',
      ),
    operations: z
      .record(
        z.string().regex(/^[A-Za-z_][\w-]*$/, 'operation names are letters, digits, _ and -'),
        graphqlOperationSchema,
      )
      .describe('The operations flows may call, by name.'),
    ...urlServiceFields,
  })
  .describe('A GraphQL service.');

export type GraphqlServiceConfig = z.output<typeof graphqlServiceSchema>;
export type GraphqlOperationConfig = z.output<typeof graphqlOperationSchema>;
