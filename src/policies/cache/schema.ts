/**
 * Config of the result cache of a step and of invalidation, and the pieces the response cache
 * shares (ttl, cache names). Durations and sizes are numbers once parsed.
 */
import { z } from 'zod';
import { durationSchema, inBytes, inMilliseconds, sizeSchema } from '../../config/schema-parts.ts';
import { parseDuration } from '../../config/units.ts';
import { storeNameSchema } from '../../state/schema.ts';

/** How long an entry is served. */
export const ttlSchema = durationSchema
  .refine((value) => (parseDuration(value) ?? 0) >= 1, { message: 'a ttl must be above 0, such as "30s"' })
  .describe('How long an entry is served, e.g. "30s", "5m".');

/** The name of a cache, which invalidation uses. */
export const cacheNameSchema = z
  .string()
  .regex(/^[\w.-]{1,100}$/, 'letters, digits, _, . and -')
  .describe('The cache name that invalidation uses.');

/** The result cache of a step. */
export const stepCacheSchema = z
  .strictObject({
    ttl: inMilliseconds(ttlSchema),
    key: z
      .string()
      .min(1)
      .describe('A CEL expression over the step scope (request, steps, item…) giving the key.'),
    store: storeNameSchema.default('memory'),
    name: cacheNameSchema
      .optional()
      .describe('The cache name that invalidation uses (default: endpointId.stepId).'),
    maxEntryBytes: inBytes(sizeSchema).prefault('1mb').describe('Larger results are not cached.'),
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

export type StepCacheConfig = z.output<typeof stepCacheSchema>;
export type InvalidateConfig = z.output<typeof invalidateSchema>;
