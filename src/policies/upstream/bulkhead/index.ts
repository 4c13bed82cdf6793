/**
 * The bulkhead upstream policy module (order 40): innermost, so an attempt holds a slot only
 * while it runs (not during a backoff wait), and an open breaker refuses calls before they take
 * a slot.
 */
import type { UpstreamPolicyModule } from '../../../contracts/policy.ts';
import { Bulkhead, bulkheadPolicy as createBulkheadPolicy } from './bulkhead.ts';
import { bulkheadPolicySchema } from './schema.ts';

export const bulkheadPolicy: UpstreamPolicyModule<typeof bulkheadPolicySchema, 'bulkhead'> = {
  name: 'bulkhead',
  order: 40,
  schema: bulkheadPolicySchema,
  create(config, ctx) {
    const bulkhead = new Bulkhead(ctx.service, config, ctx.telemetry);
    return {
      wrap: createBulkheadPolicy(bulkhead),
      status: () => {
        const { active, queued, maxConcurrent } = bulkhead;
        return { bulkhead: { active, queued, maxConcurrent } };
      },
    };
  },
};
