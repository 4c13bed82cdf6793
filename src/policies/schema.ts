/**
 * The inbound policies an endpoint may declare, and gateway-wide defaults under the top-level
 * `policies` key, built from the inbound modules. An endpoint's own entry replaces the default;
 * `false` turns a default off.
 */
import type { z } from 'zod';
import { inboundPolicyModules } from './inbound/modules.ts';
import { endpointPoliciesSchemaOf } from './inbound/stack.ts';

/** The inbound policies of an endpoint (or the defaults of every endpoint). */
export const endpointPoliciesSchema = endpointPoliciesSchemaOf(inboundPolicyModules);

export type EndpointPoliciesConfig = z.output<typeof endpointPoliciesSchema>;
