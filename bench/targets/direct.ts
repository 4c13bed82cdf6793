/** The backend called directly: no gateway, the ceiling of the backend + load generator pair. */
import type { Target } from './types.ts';

export const directTarget: Target = {
  name: 'direct',
  description: 'the backend called directly (no gateway; shares the load core with wrk)',
  unavailable: (scenario) => (scenario.direct ? undefined : 'no single backend call answers this scenario'),
  async start({ scenario, backends }) {
    const direct = scenario.direct!;
    return {
      origin: backends[direct.backend ?? 'static']!,
      request: { method: 'GET', path: direct.path },
      unwrap: (body) => body,
      ...(direct.check ? { check: direct.check } : {}),
      ...(direct.markers ? { markers: direct.markers } : {}),
      stop: async () => {},
    };
  },
};
