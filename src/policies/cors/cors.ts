import type { z } from 'zod';
import type { InboundPolicyFactory } from '../inbound.ts';
import type { corsPolicySchema } from './schema.ts';

// DRAFT: the owner of this policy implements it.
export const createCorsPolicy: InboundPolicyFactory<z.output<typeof corsPolicySchema>> = () => undefined;
