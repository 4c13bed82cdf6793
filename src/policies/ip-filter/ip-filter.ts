import type { z } from 'zod';
import type { InboundPolicyFactory } from '../inbound.ts';
import type { ipFilterPolicySchema } from './schema.ts';

// DRAFT: the owner of this policy implements it.
export const createIpFilterPolicy: InboundPolicyFactory<z.output<typeof ipFilterPolicySchema>> = () =>
  undefined;
