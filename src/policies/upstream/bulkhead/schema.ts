/** Config of a service's bulkhead (concurrency limit). */
import { z } from 'zod';
import { durationSchema, inMilliseconds } from '../../../config/schema-parts.ts';

/** A cap on concurrent calls to a service, with a bounded queue; overflow fails fast. */
export const bulkheadPolicySchema = z
  .strictObject({
    maxConcurrent: z.number().int().min(1).describe('Most calls to the service in flight at once.'),
    maxQueue: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Calls that may wait for a free slot; beyond, calls fail at once with 503.'),
    queueTimeout: inMilliseconds(durationSchema)
      .optional()
      .describe('Longest wait in the queue (default: the call’s own time left).'),
  })
  .describe('A concurrency limit on the calls to a service.');

export type BulkheadPolicyConfig = z.output<typeof bulkheadPolicySchema>;
