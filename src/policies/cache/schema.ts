/** Config of the cache policy. */
import { z } from 'zod';

// DRAFT: the owner of this policy replaces it with the real options.
export const responseCachePolicySchema = z.strictObject({}).describe('A response cache.');

// DRAFT: the owner of this policy replaces it with the real options.
export const stepCacheSchema = z.strictObject({}).describe('A result cache of a step.');

// DRAFT: the owner of this policy replaces it with the real options.
export const invalidateSchema = z.strictObject({}).describe('Cache entries a step removes.');
