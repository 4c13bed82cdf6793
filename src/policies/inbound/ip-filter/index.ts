/** The ipFilter inbound policy module: right inside CORS, so a refused address is never asked for a key. */
import type { InboundPolicyModule } from '../../../contracts/policy.ts';
import { createIpFilterPolicy } from './ip-filter.ts';
import { ipFilterPolicySchema } from './schema.ts';

export const ipFilterPolicy: InboundPolicyModule<typeof ipFilterPolicySchema, unknown, 'ipFilter'> = {
  name: 'ipFilter',
  order: 20,
  schema: ipFilterPolicySchema,
  create: (config, ctx) => ({ wrap: createIpFilterPolicy(config, ctx) }),
  openapi: () => ({ responses: { 403: 'Forbidden' } }),
};
