/** Config of the shared state stores (memory by default; Redis when several replicas share state). */
import { z } from 'zod';

// DRAFT: the owner of the stores replaces it with the real options.
export const storesSchema = z.strictObject({}).describe('Where rate-limit counters and caches live.');
