/** Config of a service's retry policy. */
import { z } from 'zod';
import { durationSchema, inMilliseconds } from '../../../config/schema-parts.ts';

/** The retry budget: retries may be at most a share of the calls, so they cannot multiply an outage. */
export const retryBudgetSchema = z
  .strictObject({
    ratio: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Retries allowed per call made, over the window (0.2: at most 20% more attempts).'),
    minRetries: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe('Retries always allowed per window, however few calls were made (the floor).'),
    window: inMilliseconds(durationSchema)
      .prefault('10s')
      .describe('The sliding window calls and retries are counted over.'),
  })
  .describe('How many retries a service may spend: the larger of ratio × calls and minRetries, per window.');

/** Retries of failed calls: only idempotent operations, only retryable failures, inside the deadline. */
export const retryPolicySchema = z
  .strictObject({
    attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Most attempts of one call, the first included (1: no retry).'),
    backoff: inMilliseconds(durationSchema)
      .prefault('100ms')
      .describe('Base delay: attempt n waits a random time up to backoff × 2^(n-1) (full jitter).'),
    maxBackoff: inMilliseconds(durationSchema).prefault('2s').describe('Longest wait between two attempts.'),
    on: z
      .array(z.number().int().min(400).max(599))
      .optional()
      .describe('Backend statuses retried besides 502, 503 and 504 (e.g. [429]).'),
    maxRetryAfter: inMilliseconds(durationSchema)
      .prefault('5s')
      .describe('A Retry-After longer than this ends the retries instead of waiting.'),
    idempotentOperations: z
      .array(z.string())
      .optional()
      .describe(
        'Operations declared safe to repeat besides those idempotent by nature (GET/PUT/DELETE… in http, queries in graphql).',
      ),
    budget: retryBudgetSchema.prefault({}).describe('The retry budget of the service.'),
  })
  .describe('Retries of failed calls to a service.');

export type RetryPolicyConfig = z.output<typeof retryPolicySchema>;
