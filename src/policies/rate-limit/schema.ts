/** Config of the rate-limit policy. */
import { z } from 'zod';

// DRAFT: the owner of this policy replaces it with the real options.
export const rateLimitPolicySchema = z.strictObject({}).describe('A rate limit.');

// DRAFT: the owner of this policy replaces it with the real options.
export const quotaPolicySchema = z.strictObject({}).describe('A quota.');
