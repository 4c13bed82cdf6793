/** Config of a service's HTTP cache (`httpCache`): caching of backend answers by HTTP's rules. */
import { z } from 'zod';
import { durationSchema, inBytes, inMilliseconds, sizeSchema } from '../../config/schema-parts.ts';
import { storeNameSchema } from '../../state/schema.ts';

const OPERATION_NAME = /^[\w.-]{1,100}$/;

/** Directives the config puts in place of the backend's, in every answer of the service. */
const overrideSchema = z
  .strictObject({
    maxAge: inMilliseconds(durationSchema)
      .optional()
      .describe("How long answers are fresh, in place of the backend's max-age / s-maxage / Expires."),
    staleWhileRevalidate: inMilliseconds(durationSchema)
      .optional()
      .describe('How long a stale answer is served while one background call refreshes it.'),
    staleIfError: inMilliseconds(durationSchema)
      .optional()
      .describe('How long a stale answer is served when the backend fails or its breaker is open.'),
  })
  .describe("Directives used in place of the backend's Cache-Control ones.");

/** The HTTP cache of a service. */
export const httpCachePolicySchema = z
  .strictObject({
    operations: z
      .array(z.string().regex(OPERATION_NAME))
      .min(1)
      .optional()
      .describe('The operations cached (default: every GET operation of the service).'),
    store: storeNameSchema.default('memory'),
    maxEntryBytes: inBytes(sizeSchema).prefault('1mb').describe('Larger answers are not stored.'),
    keep: inMilliseconds(durationSchema)
      .prefault('10m')
      .describe(
        'How long an answer with a validator (ETag, Last-Modified) is kept after it went stale, to be revalidated with a conditional request.',
      ),
    override: overrideSchema.optional(),
  })
  .describe(
    "A cache of the service's answers by HTTP's rules (RFC 9111): freshness from Cache-Control / Expires / Age, revalidation with If-None-Match / If-Modified-Since, stale-while-revalidate and stale-if-error.",
  );

export type HttpCachePolicyConfig = z.output<typeof httpCachePolicySchema>;
