/**
 * Traced passthrough: the 1 KB passthrough with request tracing on (an admin credential, so the
 * portal's trace ring of 100 keeps every request's spans), showing what tracing costs per
 * request. No OTLP export: that cost is the exporter's and the collector's.
 */
import type { ChorusConfig } from '../../src/modules.ts';
import { passthroughScenario } from './passthrough.ts';
import type { Scenario } from './types.ts';

/** The passthrough with `admin.credential` set, so traces are recorded. */
export function tracedScenario(): Scenario {
  const base = passthroughScenario();
  return {
    ...base,
    ref: { name: 'traced' },
    title: 'passthrough of a 1 KB JSON response with request tracing on',
    targets: ['handwritten', 'chorus'],
    chorus: (backends) =>
      ({
        ...(base.chorus(backends) as ChorusConfig),
        admin: { credential: 'bench-admin-credential-0123456789' },
      }) as ChorusConfig,
  };
}
