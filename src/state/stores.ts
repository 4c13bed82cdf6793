/** The state stores rate limits and caches use: memory always, Redis when configured. */
import type { ResolvedConfig } from '../config/schema.ts';
import type { PolicyFactoryContext } from '../policies/runtime.ts';

// DRAFT: the owner of the stores fills this in (memory and Redis stores).
export interface Stores {
  close(): Promise<void>;
}

export async function createStores(_config: ResolvedConfig, _ctx: PolicyFactoryContext): Promise<Stores> {
  return { close: async () => {} };
}
