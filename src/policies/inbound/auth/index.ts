/**
 * The auth inbound policy module (order 30): after CORS and the IP filter, so a refused address
 * is never asked for a key; before the limits, which count the consumer it names.
 */
import type { InboundPolicyModule } from '../../../contracts/policy.ts';
import type { PolicyRuntime } from '../../shared.ts';
import { createAuthPolicy } from './auth.ts';
import { authOpenApi } from './openapi.ts';
import { authPolicySchema } from './schema.ts';

export const authPolicy: InboundPolicyModule<typeof authPolicySchema, PolicyRuntime, 'auth'> = {
  name: 'auth',
  order: 30,
  schema: authPolicySchema,
  create(config, ctx) {
    const wrap = createAuthPolicy(config, ctx);
    return wrap && { wrap };
  },
  openapi: authOpenApi,
};
