import type { z } from 'zod';
import type { InboundPolicyFactory } from '../inbound.ts';
import type { responseCachePolicySchema } from './schema.ts';

// DRAFT: the owner of this policy implements it.
export const createResponseCachePolicy: InboundPolicyFactory<
  z.output<typeof responseCachePolicySchema>
> = () => undefined;
