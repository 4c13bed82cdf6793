/** The config of an `http` service: a REST/JSON backend with named operations. */
import { z } from 'zod';
import {
  durationMsSchema,
  httpMethodSchema,
  sizeBytesSchema,
  staticHeadersSchema,
} from '../../config/schema-parts.ts';
import { urlServiceFields } from '../../transports/http/schema.ts';
import { operationOutputSchema } from '../../types/output-schema.ts';

/** One operation of an HTTP service. */
export const httpOperationSchema = z
  .strictObject({
    method: httpMethodSchema.default('GET').describe('The HTTP method of the call.'),
    path: z
      .string()
      .startsWith('/', 'the path must start with "/"')
      .default('/')
      .describe('Path below the service url; {name} placeholders are filled from input.params.'),
    summary: z.string().optional().describe('One line saying what the operation does.'),
    headers: staticHeadersSchema.optional().describe('Headers sent on every call of this operation.'),
    query: z
      .record(z.string(), z.string())
      .optional()
      .describe('Query parameters sent on every call of this operation.'),
    accept: z
      .array(z.number().int().min(100).max(599))
      .optional()
      .describe('Statuses treated as success besides 2xx (e.g. [404] to read "not found" as data).'),
    responseType: z
      .enum(['auto', 'json', 'text'])
      .default('auto')
      .describe('How the body is decoded: auto follows the content type.'),
    idempotent: z
      .boolean()
      .optional()
      .describe(
        'Whether a call may be repeated safely (retries); default: true for GET, HEAD, PUT, DELETE and OPTIONS, false for POST and PATCH.',
      ),
    output: operationOutputSchema,
  })
  .describe('An operation of an HTTP service.');

/** A REST/JSON backend reached over HTTP(S). */
export const httpServiceSchema = z
  .strictObject({
    kind: z.literal('http').describe('The connector: http.'),
    url: z
      .string()
      .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'expected an http:// or https:// base URL without query')
      .optional()
      .describe('Base URL of the service; operation paths are appended to it. Give url or urls.'),
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
      .describe('Most pooled keep-alive connections to the origin.'),
    keepAliveTimeout: durationMsSchema.prefault('4s').describe('How long an idle pooled connection is kept.'),
    operations: z
      .record(
        z.string().regex(/^[A-Za-z_][\w-]*$/, 'operation names are letters, digits, _ and -'),
        httpOperationSchema,
      )
      .describe('The operations flows may call, by name.'),
    ...urlServiceFields,
  })
  .describe('An HTTP/JSON service.');

export type HttpServiceConfig = z.output<typeof httpServiceSchema>;
export type HttpOperationConfig = z.output<typeof httpOperationSchema>;
