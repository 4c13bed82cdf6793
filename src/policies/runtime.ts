/**
 * Builds what policies share across a plan, once at load: the client-address resolver, the
 * consumers and their keys, the state stores (memory, Redis). Closed with the plan.
 */

import type { PolicyFactoryContext } from '../contracts/policy.ts';
import { createStores, type StoredConfig } from '../state/stores.ts';
import { createClientIpResolver } from './client-ip.ts';
import { type ConsumerSettings, createConsumerRegistry } from './consumers/registry.ts';
import type { PolicyRuntime } from './shared.ts';

export type { PolicyRuntime } from './shared.ts';

/** Builds the runtime; problems are reported through ctx.issue. */
export async function createPolicyRuntime(
  config: StoredConfig & ConsumerSettings,
  ctx: PolicyFactoryContext,
): Promise<PolicyRuntime> {
  const clientIp = createClientIpResolver(config.server.trustedProxies);
  for (const found of clientIp.issues) ctx.issue(['server', 'trustedProxies', found.index], found.message);
  const consumers = await createConsumerRegistry(config, ctx);
  const stores = await createStores(config, ctx);
  return {
    clientIp: clientIp.resolve,
    consumers,
    stores,
    plans: config.plans,
    close: async () => {
      await Promise.allSettled([consumers.close(), stores.close()]);
    },
  };
}
