/**
 * The circuit breaker upstream policy module (order 30): inside the retry, so it sees every
 * attempt; outside the bulkhead, so an open breaker refuses calls before they take a slot.
 */
import type { UpstreamPolicyModule } from '../../../contracts/policy.ts';
import {
  breakerOptions,
  CircuitBreaker,
  circuitBreakerPolicy as createBreakerPolicy,
} from './circuit-breaker.ts';
import { circuitBreakerPolicySchema } from './schema.ts';

export const circuitBreakerPolicy: UpstreamPolicyModule<typeof circuitBreakerPolicySchema, 'circuitBreaker'> =
  {
    name: 'circuitBreaker',
    order: 30,
    schema: circuitBreakerPolicySchema,
    create(config, ctx) {
      const breaker = new CircuitBreaker(breakerOptions(ctx.service, config, ctx.telemetry));
      return { wrap: createBreakerPolicy(breaker), status: () => ({ breaker: breaker.status() }) };
    },
  };
