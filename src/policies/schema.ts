/**
 * The inbound policies an endpoint may declare, and gateway-wide defaults under the top-level
 * `policies` key. An endpoint's own entry replaces the default; `false` turns a default off.
 */
import { z } from 'zod';
import { authPolicySchema } from './inbound/auth/schema.ts';
import { responseCachePolicySchema } from './cache/schema.ts';
import { corsPolicySchema } from './inbound/cors/schema.ts';
import { ipFilterPolicySchema } from './inbound/ip-filter/schema.ts';
import { quotaPolicySchema, rateLimitPolicySchema } from './inbound/rate-limit/schema.ts';

const off = z.literal(false);

/** The inbound policies of an endpoint (or the defaults of every endpoint). */
export const endpointPoliciesSchema = z
  .strictObject({
    cors: z.union([corsPolicySchema, off]).optional(),
    ipFilter: z.union([ipFilterPolicySchema, off]).optional(),
    auth: z.union([authPolicySchema, off]).optional(),
    rateLimit: z.union([rateLimitPolicySchema, off]).optional(),
    quota: z.union([quotaPolicySchema, off]).optional(),
    cache: z.union([responseCachePolicySchema, off]).optional(),
  })
  .describe('Inbound policies, applied in this order: cors, ipFilter, auth, rateLimit, quota, cache.');

export type EndpointPoliciesConfig = z.output<typeof endpointPoliciesSchema>;
