/**
 * The upstream policy modules (the stack orders them by `order`). Until the gateway's one module
 * list takes them over, the compatibility wrappers and the service schemas read this list.
 */
import { bulkheadPolicy } from './bulkhead/index.ts';
import { circuitBreakerPolicy } from './circuit-breaker/index.ts';
import { credentialsPolicy } from './credentials/index.ts';
import { retryPolicy } from './retry/index.ts';

export const upstreamPolicyModules = [
  retryPolicy,
  circuitBreakerPolicy,
  bulkheadPolicy,
  credentialsPolicy,
] as const;
