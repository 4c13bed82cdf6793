/**
 * API key + rate limit: the api-key scenario with a rate limit per consumer on the memory store,
 * high enough never to refuse under load, so the table shows what counting costs. The hand-written
 * peer checks the key only (a hand-written sliding-window log would be this same code again).
 */
import type { ChorusConfig } from '../../src/modules.ts';
import { apiKeyScenario } from './api-key.ts';
import type { Scenario } from './types.ts';

/** The api-key passthrough with `policies.rateLimit` keyed by consumer. */
export function rateLimitedScenario(): Scenario {
  const base = apiKeyScenario();
  return {
    ...base,
    ref: { name: 'rate-limited' },
    title: 'passthrough of a 1 KB JSON response behind an API key and a rate limit',
    chorus: (backends) => {
      const config = base.chorus(backends) as ChorusConfig & { endpoints: { policies?: object }[] };
      return {
        ...config,
        endpoints: config.endpoints.map((endpoint) => ({
          ...endpoint,
          policies: {
            ...endpoint.policies,
            rateLimit: { limit: 100_000, window: '1s', key: 'consumer' },
          },
        })),
      } as ChorusConfig;
    },
  };
}
