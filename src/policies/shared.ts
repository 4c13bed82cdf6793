/**
 * What the inbound policies of a gateway share, as a type: the `Shared` of their factory
 * context. Built once per plan by createPolicyRuntime (./runtime.ts); kept apart from it so a
 * policy module's types reach neither the stores' construction nor the config schema.
 */
import type { Stores } from '../state/store.ts';
import type { ClientIpResolver } from './client-ip.ts';
import type { ConsumerRegistry } from './consumers/registry.ts';
import type { PlanConfig } from './consumers/schema.ts';

/** Gateway-wide policy state, built once per plan. */
export interface PolicyRuntime {
  readonly clientIp: ClientIpResolver;
  readonly consumers: ConsumerRegistry;
  readonly stores: Stores;
  /** The plans of the config (`plans:`): the limits and scopes of their consumers. */
  readonly plans: Readonly<Record<string, PlanConfig>>;
  /** Closes connections the runtime opened (Redis) and stops its timers. */
  close(): Promise<void>;
}
