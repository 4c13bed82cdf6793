/** Config of consumers (who calls) and their plans (rate limit, quota, scopes). */
import { z } from 'zod';
import { quotaPolicySchema, rateLimitPolicySchema } from '../rate-limit/schema.ts';

// DRAFT: the owner of consumers replaces these with the real options.
export const planSchema = z
  .strictObject({})
  .describe('A plan: the rate limit, quota and scopes of its consumers.');
export const consumerSchema = z.strictObject({}).describe('A consumer of the API.');
export const consumersSchema = z.array(consumerSchema).describe('The consumers of the API.');
