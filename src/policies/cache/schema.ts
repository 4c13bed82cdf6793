/** Config of the response cache of an endpoint, the result cache of a step, and invalidation. */
import { z } from 'zod';
import { durationSchema, sizeSchema } from '../../config/schema-parts.ts';
import { parseDuration } from '../../config/units.ts';
import { storeNameSchema } from '../../state/schema.ts';

const ttlSchema = durationSchema
  .refine((value) => (parseDuration(value) ?? 0) >= 1, { message: 'a ttl must be above 0, such as "30s"' })
  .describe('How long an entry is served, e.g. "30s", "5m".');

const cacheNameSchema = z
  .string()
  .regex(/^[\w.-]{1,100}$/, 'letters, digits, _, . and -')
  .describe('The cache name that invalidation uses.');

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The response cache of an endpoint. */
export const responseCachePolicySchema = z
  .strictObject({
    ttl: ttlSchema.default('60s'),
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
    maxEntryBytes: sizeSchema.default('1mb').describe('Larger answers are not cached.'),
  })
  .describe('A response cache: hits answer at once; concurrent misses of one key make one backend call.');

/** The result cache of a step. */
export const stepCacheSchema = z
  .strictObject({
    ttl: ttlSchema,
    key: z
      .string()
      .min(1)
      .describe('A CEL expression over the step scope (request, steps, item…) giving the key.'),
    store: storeNameSchema.default('memory'),
    name: cacheNameSchema
      .optional()
      .describe('The cache name that invalidation uses (default: endpointId.stepId).'),
    maxEntryBytes: sizeSchema.default('1mb').describe('Larger results are not cached.'),
  })
  .describe('A result cache of a step.');

const invalidationSchema = z.strictObject({
  cache: cacheNameSchema.describe(
    'The cache: a response cache (endpoint id or name) or a step cache (endpointId.stepId or name).',
  ),
  key: z
    .string()
    .min(1)
    .describe('A CEL expression giving the key to remove, the same key the cache computed.'),
});

/** The cache entries a step removes once it has succeeded. */
export const invalidateSchema = z
  .union([invalidationSchema, z.array(invalidationSchema).min(1).max(50)])
  .describe('Cache entries a step removes once it has succeeded: {cache, key} or a list of them.');

export type ResponseCacheConfig = z.output<typeof responseCachePolicySchema>;
export type StepCacheConfig = z.output<typeof stepCacheSchema>;
export type InvalidateConfig = z.output<typeof invalidateSchema>;
