/**
 * Whether a failed backend call says the backend (or the host it went to) is unhealthy. The
 * circuit breaker and the load balancer's outlier ejection both judge calls by it.
 */
import { ChorusError } from './catalogue.ts';

/** Whether a failed call says the backend is unhealthy; undefined when it says nothing either way. */
export function isBackendFailure(error: unknown, signal: AbortSignal): boolean | undefined {
  if (signal.aborted) return undefined;
  if (!(error instanceof ChorusError)) return undefined;
  switch (error.code) {
    case 'CHORUS_UPSTREAM_TRANSPORT':
    case 'CHORUS_UPSTREAM_TIMEOUT':
    case 'CHORUS_UPSTREAM_UNAVAILABLE':
      return true;
    case 'CHORUS_UPSTREAM_STATUS': {
      const status = error.extras.upstreamStatus;
      return typeof status === 'number' && status >= 500;
    }
    case 'CHORUS_BULKHEAD_FULL':
    case 'CHORUS_CIRCUIT_OPEN':
    case 'CHORUS_DEADLINE_EXCEEDED':
    case 'CHORUS_INTERNAL':
    case 'CHORUS_VALIDATION_FAILED':
      return undefined;
    default:
      // An answer that arrived (a 4xx, a protocol error, a decode error): the backend is up.
      return false;
  }
}
