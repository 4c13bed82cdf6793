/** The cors inbound policy module: outermost (order 10), so even refusals carry its headers. */
import type { InboundPolicyModule } from '../../../contracts/policy.ts';
import { createCorsPolicy } from './cors.ts';
import { corsPolicySchema } from './schema.ts';

export const corsPolicy: InboundPolicyModule<typeof corsPolicySchema, unknown, 'cors'> = {
  name: 'cors',
  order: 10,
  schema: corsPolicySchema,
  create: (config, ctx) => createCorsPolicy(config, ctx.method),
};
