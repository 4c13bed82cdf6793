/** The config of an `xml` service: a plain XML-over-HTTP backend (legacy XML APIs, RSS and Atom feeds). */
import { z } from 'zod';
import {
  durationMsSchema,
  httpMethodSchema,
  sizeBytesSchema,
  staticHeadersSchema,
} from '../../config/schema-parts.ts';
import { urlServiceFields } from '../../transports/http/schema.ts';
import { operationOutputSchema } from '../../types/output-schema.ts';

const pathsSchema = z.array(z.string().min(1));

/** One operation of an XML service. */
export const xmlOperationSchema = z
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
    output: operationOutputSchema,
    arrays: pathsSchema
      .optional()
      .describe(
        'Elements that are always arrays, even when they occur once: dot paths from the root element, e.g. "rss.channel.item" ("*" matches any one element).',
      ),
    numbers: pathsSchema
      .optional()
      .describe('Elements or attributes ("feed.entry.@rank") whose text is read as a number.'),
    booleans: pathsSchema
      .optional()
      .describe('Elements or attributes whose text is read as a boolean (true/false, 1/0).'),
    parseValues: z
      .boolean()
      .default(false)
      .describe(
        'Read every text that looks like a number (no leading zeros) or true/false as one; by default text stays a string.',
      ),
    root: z
      .string()
      .optional()
      .describe(
        'The root element of request bodies: input.body is its content. Without it, input.body is an object with one key, the root.',
      ),
  })
  .describe('An operation of an XML service.');

/** A plain XML backend reached over HTTP(S). */
export const xmlServiceSchema = z
  .strictObject({
    kind: z.literal('xml').describe('The connector: xml.'),
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
        xmlOperationSchema,
      )
      .describe('The operations flows may call, by name.'),
    ...urlServiceFields,
  })
  .describe('A plain XML service over HTTP.');

export type XmlServiceConfig = z.output<typeof xmlServiceSchema>;
export type XmlOperationConfig = z.output<typeof xmlOperationSchema>;
