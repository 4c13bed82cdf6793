/** Config of a service's circuit breaker. */
import { z } from 'zod';
import { durationSchema, inMilliseconds, timeoutSchema } from '../../../config/schema-parts.ts';

/** Stops calling a failing service for a while, so it can recover and callers fail fast. */
export const circuitBreakerPolicySchema = z
  .strictObject({
    failureRate: z
      .number()
      .min(1)
      .max(100)
      .default(50)
      .describe('Opens when this percentage of the calls in the window failed…'),
    minimumCalls: z
      .number()
      .int()
      .min(1)
      .default(20)
      .describe('…once the window holds at least this many calls.'),
    window: inMilliseconds(timeoutSchema)
      .prefault('30s')
      .describe('The sliding window the failure rate is measured over.'),
    consecutiveFailures: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe('Also opens after this many failures in a row, whatever the rate.'),
    cooldown: inMilliseconds(durationSchema)
      .prefault('10s')
      .describe('How long the breaker stays open before it lets probe calls through (half-open).'),
    halfOpenProbes: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('Probe calls let through at once while half-open; all must succeed to close.'),
  })
  .describe('A circuit breaker over the calls of a service.');

export type CircuitBreakerPolicyConfig = z.output<typeof circuitBreakerPolicySchema>;
