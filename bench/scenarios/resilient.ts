/**
 * Resilient passthrough: the 1 KB passthrough to a service with retry (3 attempts), a circuit
 * breaker and a bulkhead, none of which ever trips under load, so the table shows what the
 * upstream policies cost on the happy path. The hand-written peer has none of them.
 */
import type { ChorusConfig } from '../../src/modules.ts';
import { passthroughScenario } from './passthrough.ts';
import type { Scenario } from './types.ts';

/** The passthrough with `retry`, `circuitBreaker` and `bulkhead` on its service. */
export function resilientScenario(): Scenario {
  const base = passthroughScenario();
  return {
    ...base,
    ref: { name: 'resilient' },
    title: 'passthrough of a 1 KB JSON response through retry, circuit breaker and bulkhead',
    targets: ['handwritten', 'chorus'],
    chorus: (backends) => {
      const config = base.chorus(backends) as ChorusConfig & { services: Record<string, object> };
      return {
        ...config,
        services: {
          backend: {
            ...config.services.backend,
            retry: { attempts: 3 },
            circuitBreaker: {},
            bulkhead: { maxConcurrent: 512, maxQueue: 512 },
          },
        },
      } as ChorusConfig;
    },
  };
}
