import type { z } from 'zod';
import type { InboundPolicyFactory } from '../inbound.ts';
import type { quotaPolicySchema, rateLimitPolicySchema } from './schema.ts';

// DRAFT: the owner of this policy implements it.
export const createRateLimitPolicy: InboundPolicyFactory<z.output<typeof rateLimitPolicySchema>> = () =>
  undefined;
export const createQuotaPolicy: InboundPolicyFactory<z.output<typeof quotaPolicySchema>> = () => undefined;
