import type { z } from 'zod';
import type { InboundPolicyFactory } from '../inbound.ts';
import type { authPolicySchema } from './schema.ts';

// DRAFT: the owner of this policy implements it.
export const createAuthPolicy: InboundPolicyFactory<z.output<typeof authPolicySchema>> = () => undefined;
