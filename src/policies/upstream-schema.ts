/**
 * The upstream policy fields every service kind gets (spread into each connector's service
 * schema).
 */
import type { z } from 'zod';
import { bulkheadPolicySchema } from './upstream/bulkhead/schema.ts';
import { circuitBreakerPolicySchema } from './upstream/circuit-breaker/schema.ts';
import { backendCredentialsSchema } from './upstream/credentials/schema.ts';
import { retryPolicySchema } from './upstream/retry/schema.ts';

/** Fields of every service: retry, circuitBreaker, bulkhead and auth (backend credentials). */
export const upstreamPolicyFields = {
  retry: retryPolicySchema.optional(),
  circuitBreaker: circuitBreakerPolicySchema.optional(),
  bulkhead: bulkheadPolicySchema.optional(),
  auth: backendCredentialsSchema.optional(),
};

/** The upstream policy settings of any service, as compileUpstreamPolicies reads them. */
export interface UpstreamPolicySettings {
  retry?: z.output<typeof retryPolicySchema> | undefined;
  circuitBreaker?: z.output<typeof circuitBreakerPolicySchema> | undefined;
  bulkhead?: z.output<typeof bulkheadPolicySchema> | undefined;
  auth?: z.output<typeof backendCredentialsSchema> | undefined;
}
