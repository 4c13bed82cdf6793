/**
 * What policies share across a plan, built once at load: the client-address resolver, the
 * consumers and their keys, the state stores (memory, Redis). Closed with the plan.
 */

import type { PolicyFactoryContext } from '../contracts/policy.ts';
import type { ResolvedConfig } from '../modules.ts';
import { createStores, type Stores } from '../state/stores.ts';
import { type ClientIpResolver, createClientIpResolver } from './client-ip.ts';
import { type ConsumerRegistry, createConsumerRegistry } from './consumers/registry.ts';

/** Gateway-wide policy state, built once per plan. */
export interface PolicyRuntime {
  readonly clientIp: ClientIpResolver;
  readonly consumers: ConsumerRegistry;
  readonly stores: Stores;
  /** The plans of the config (`plans:`): the limits and scopes of their consumers. */
  readonly plans: ResolvedConfig['plans'];
  /** Closes connections the runtime opened (Redis) and stops its timers. */
  close(): Promise<void>;
}

/** Builds the runtime; problems are reported through ctx.issue. */
export async function createPolicyRuntime(
  config: ResolvedConfig,
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
