/**
 * The scenario registry. Add a scenario (SOAP, auth + rate limit, cache…) as one file in this folder
 * and one line here; list it in MAIN_SCENARIOS to put it in the `npm run bench` table.
 */
import { aggregateScenario } from './aggregate.ts';
import { apiKeyScenario } from './api-key.ts';
import { cachedScenario } from './cached.ts';
import { chainScenario } from './chain.ts';
import { compressedScenario } from './compressed.ts';
import { endpointsScenario } from './endpoints.ts';
import { fanoutScenario } from './fanout.ts';
import { foreachScenario } from './foreach.ts';
import { foreachBatchedScenario } from './foreach-batched.ts';
import { passthroughScenario } from './passthrough.ts';
import { rateLimitedScenario } from './rate-limited.ts';
import { resilientScenario } from './resilient.ts';
import { tracedScenario } from './traced.ts';
import type { Scenario, ScenarioRef } from './types.ts';

/** Scenario factories by name; params come from ScenarioRef.params. */
export const SCENARIOS: Record<string, (params: Record<string, number>) => Scenario> = {
  passthrough: passthroughScenario,
  aggregate: aggregateScenario,
  chain: chainScenario,
  foreach: foreachScenario,
  'foreach-batched': foreachBatchedScenario,
  fanout: fanoutScenario,
  endpoints: endpointsScenario,
  'api-key': apiKeyScenario,
  'rate-limited': rateLimitedScenario,
  cached: cachedScenario,
  compressed: compressedScenario,
  resilient: resilientScenario,
  traced: tracedScenario,
};

/** The scenarios of the main table, in order. */
export const MAIN_SCENARIOS: readonly string[] = ['passthrough', 'aggregate', 'chain', 'foreach'];

/** Builds a scenario from its reference (also used by child servers to rebuild it). */
export function loadScenario(ref: ScenarioRef): Scenario {
  const factory = SCENARIOS[ref.name];
  if (!factory)
    throw new Error(`unknown scenario "${ref.name}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return factory(ref.params ?? {});
}
