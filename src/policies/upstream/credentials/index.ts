/**
 * The backend credentials upstream policy module (config key `auth`, order 10): outermost, so a
 * token is fetched once per call, not per attempt, and a token failure (CHORUS_UPSTREAM_AUTH) is
 * never retried nor counted against the backend.
 */
import type { UpstreamPolicyModule } from '../../../contracts/policy.ts';
import { credentialsPolicy as createCredentialsPolicy } from './credentials.ts';
import { backendCredentialsSchema } from './schema.ts';

export const credentialsPolicy: UpstreamPolicyModule<typeof backendCredentialsSchema, 'auth'> = {
  name: 'auth',
  order: 10,
  schema: backendCredentialsSchema,
  create(config, ctx) {
    const wrap = createCredentialsPolicy(ctx.service, config, ctx.at, ctx.issue);
    return wrap && { wrap };
  },
};
