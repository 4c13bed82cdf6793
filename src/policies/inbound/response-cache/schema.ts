/** Config of the response cache of an endpoint (durations and sizes are numbers once parsed). */
import { z } from 'zod';
import { inBytes, inMilliseconds, sizeSchema } from '../../../config/schema-parts.ts';
import { storeNameSchema } from '../../../state/schema.ts';
import { cacheNameSchema, ttlSchema } from '../../cache/schema.ts';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The response cache of an endpoint. */
export const responseCachePolicySchema = z
  .strictObject({
    ttl: inMilliseconds(ttlSchema).prefault('60s'),
    key: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A CEL expression over request giving the key (default: method, path and the sorted query, e.g. "GET /items/7?a=1&b=2").',
      ),
    vary: z
      .array(
        z
          .string()
          .regex(HEADER_NAME, 'expected consumer or a header name')
          .transform((value) => value.toLowerCase()),
      )
      .max(20)
      .default([])
      .describe('What else tells answers apart: consumer, and/or request header names.'),
    store: storeNameSchema.default('memory'),
    statuses: z
      .array(z.number().int().min(200).max(599))
      .min(1)
      .default([200])
      .describe('The statuses that are cached.'),
    name: cacheNameSchema
      .optional()
      .describe('The cache name that invalidation uses (default: the endpoint id).'),
    maxEntryBytes: inBytes(sizeSchema).prefault('1mb').describe('Larger answers are not cached.'),
    clientDirectives: z
      .enum(['honour', 'ignore'])
      .default('honour')
      .describe(
        "Whether a request's Cache-Control no-cache / no-store / max-age and Pragma: no-cache go past the cache (honour) or are ignored.",
      ),
  })
  .describe('A response cache: hits answer at once; concurrent misses of one key make one backend call.');

export type ResponseCacheConfig = z.output<typeof responseCachePolicySchema>;
