/**
 * The upstream policy fields every service kind gets (spread into each connector's service
 * schema), built from the upstream modules.
 */
import { upstreamPolicyModules } from './upstream/modules.ts';
import { upstreamPolicyFieldsOf } from './upstream/stack.ts';

/** Fields of every service: retry, circuitBreaker, bulkhead and auth (backend credentials). */
export const upstreamPolicyFields = upstreamPolicyFieldsOf(upstreamPolicyModules);
