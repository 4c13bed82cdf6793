/**
 * The upstream policy fields every service kind gets (spread into each connector's service
 * schema), and the fields of services reached over URLs (several urls, balancing, client TLS).
 */
import { z } from 'zod';
import { bulkheadPolicySchema } from './bulkhead/schema.ts';
import { circuitBreakerPolicySchema } from './circuit-breaker/schema.ts';
import { backendCredentialsSchema } from './credentials/schema.ts';
import { clientTlsSchema, loadBalancingSchema } from './load-balancing/schema.ts';
import { retryPolicySchema } from './retry/schema.ts';

/** Fields of every service: retry, circuitBreaker, bulkhead and auth (backend credentials). */
export const upstreamPolicyFields = {
  retry: retryPolicySchema.optional(),
  circuitBreaker: circuitBreakerPolicySchema.optional(),
  bulkhead: bulkheadPolicySchema.optional(),
  auth: backendCredentialsSchema.optional(),
};

const baseUrlSchema = z
  .string()
  .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'expected an http:// or https:// base URL without query');

/** Fields of services called over HTTP(S) base URLs. */
export const urlServiceFields = {
  urls: z
    .array(baseUrlSchema)
    .min(1)
    .max(64)
    .optional()
    .describe('Several base URLs of the same service (instead of url): calls are balanced over them.'),
  loadBalancing: loadBalancingSchema.optional(),
  tls: clientTlsSchema.optional(),
};

/** The upstream policy settings of any service, as compileUpstreamPolicies reads them. */
export interface UpstreamPolicySettings {
  retry?: z.output<typeof retryPolicySchema> | undefined;
  circuitBreaker?: z.output<typeof circuitBreakerPolicySchema> | undefined;
  bulkhead?: z.output<typeof bulkheadPolicySchema> | undefined;
  auth?: z.output<typeof backendCredentialsSchema> | undefined;
}
