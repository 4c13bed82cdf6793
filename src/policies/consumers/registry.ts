/** The consumers of the API, indexed once at load. */
import type { ResolvedConfig } from '../../config/schema.ts';
import type { PolicyFactoryContext } from '../runtime.ts';

// DRAFT: the owner of consumers fills this in (key index, plans, JWT subject mapping).
export interface ConsumerRegistry {
  close(): Promise<void>;
}

export async function createConsumerRegistry(
  _config: ResolvedConfig,
  _ctx: PolicyFactoryContext,
): Promise<ConsumerRegistry> {
  return { close: async () => {} };
}
