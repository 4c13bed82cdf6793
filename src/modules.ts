/**
 * The one list of modules: every connector kind, inbound policy and upstream policy Chorus
 * knows, and the config format they make together. Adding a connector kind is one folder under
 * src/connectors/ plus one line in CONNECTORS; adding a policy is one folder under
 * src/policies/inbound/ or src/policies/upstream/ plus one line in its list. The config schema,
 * the JSON Schema, the OpenAPI contributions and the docs' kind table follow from these lists.
 * Only the wiring (src/gateway.ts), the server's types and the CLI import this file.
 */
import { z } from 'zod';
import { toConfigJsonSchema } from './config/json-schema.ts';
import { createConfigLoader } from './config/load.ts';
import { buildConfigSchema } from './config/schema.ts';
import { amqpConnector } from './connectors/amqp/index.ts';
import { graphqlConnector } from './connectors/graphql/index.ts';
import { grpcConnector } from './connectors/grpc/index.ts';
import { httpConnector } from './connectors/http/index.ts';
import { mockConnector } from './connectors/mock/index.ts';
import { natsConnector } from './connectors/nats/index.ts';
import { soapConnector } from './connectors/soap/index.ts';
import { xmlConnector } from './connectors/xml/index.ts';
import type { ConnectorModule } from './contracts/connector.ts';
import { observabilitySchema } from './observability/schema.ts';
import { httpCachePolicy } from './policies/cache/http-cache-module.ts';
import { invalidateSchema, stepCacheSchema } from './policies/cache/schema.ts';
import { authSettingsSchema } from './policies/consumers/auth-settings.ts';
import { consumersSchema, planSchema } from './policies/consumers/schema.ts';
import { authPolicy } from './policies/inbound/auth/index.ts';
import { corsPolicy } from './policies/inbound/cors/index.ts';
import { ipFilterPolicy } from './policies/inbound/ip-filter/index.ts';
import { planLimitsPolicy } from './policies/inbound/plan-limits/index.ts';
import { quotaPolicy } from './policies/inbound/quota/index.ts';
import { rateLimitPolicy } from './policies/inbound/rate-limit/index.ts';
import { responseCachePolicy } from './policies/inbound/response-cache/index.ts';
import { endpointPoliciesSchemaOf } from './policies/inbound/stack.ts';
import { bulkheadPolicy } from './policies/upstream/bulkhead/index.ts';
import { circuitBreakerPolicy } from './policies/upstream/circuit-breaker/index.ts';
import { credentialsPolicy } from './policies/upstream/credentials/index.ts';
import { retryPolicy } from './policies/upstream/retry/index.ts';
import { type UpstreamPolicyShape, upstreamPolicyFieldsOf } from './policies/upstream/stack.ts';
import { generateOpenApi, type OpenApiDocument, type OpenApiOptions } from './portal/openapi.ts';
import { adminSchema, portalSchema } from './portal/schema.ts';
import { storesSchema } from './state/schema.ts';

/** Every connector kind, by its `kind:` value. A new kind adds one line here. */
export const CONNECTORS = [
  httpConnector,
  graphqlConnector,
  grpcConnector,
  natsConnector,
  amqpConnector,
  soapConnector,
  xmlConnector,
  mockConnector,
] as const satisfies readonly ConnectorModule[];

/**
 * Every inbound policy, by its key under an endpoint's `policies` (the stack orders them by
 * their `order`; plan limits are built in, without a key). A new policy adds one line here.
 */
export const INBOUND_POLICIES = [
  corsPolicy,
  ipFilterPolicy,
  authPolicy,
  planLimitsPolicy,
  rateLimitPolicy,
  quotaPolicy,
  responseCachePolicy,
] as const;

/** Every upstream policy, by its key in a service entry (ordered by their `order`). A new one adds one line here. */
export const UPSTREAM_POLICIES = [
  retryPolicy,
  circuitBreakerPolicy,
  bulkheadPolicy,
  credentialsPolicy,
  httpCachePolicy,
] as const;

/** The upstream policy fields every service kind gets: retry, circuitBreaker, bulkhead, auth. */
const upstreamPolicyFields = upstreamPolicyFieldsOf(UPSTREAM_POLICIES);
type UpstreamShape = UpstreamPolicyShape<typeof UPSTREAM_POLICIES>;

/** The inbound policies an endpoint (and the gateway default) may declare. */
export const endpointPoliciesSchema = endpointPoliciesSchemaOf(INBOUND_POLICIES);

/** The connector module of a kind. */
export const connectorModules: ReadonlyMap<string, ConnectorModule> = new Map(
  CONNECTORS.map((module) => [module.kind, module as unknown as ConnectorModule]),
);

/** The connector kinds' service schemas, as a tuple (so the union keeps each kind's type). */
type WithUpstream<S> =
  S extends z.ZodObject<infer Shape, infer Config>
    ? z.ZodObject<z.core.util.Extend<Shape, UpstreamShape>, Config>
    : never;
type SchemasOf<T extends readonly { readonly schema: z.ZodObject }[]> = {
  -readonly [K in keyof T]: WithUpstream<T[K]['schema']>;
};
type ConnectorSchemas = SchemasOf<typeof CONNECTORS>;

/** A backend service: one of the connector kinds' schemas. */
export const serviceSchema = z
  .discriminatedUnion(
    'kind',
    // Each kind's own fields plus the upstream policies' fields, added here so no connector knows them.
    CONNECTORS.map((module) => {
      const withPolicies = module.schema.extend(upstreamPolicyFields);
      const { description } = module.schema;
      return description === undefined ? withPolicies : withPolicies.describe(description);
    }) as unknown as ConnectorSchemas,
  )
  .describe('A backend service, named once and called by flows.');

/** The whole config format: the core plus what the modules add. */
export const configSchema = buildConfigSchema({
  service: serviceSchema,
  policies: endpointPoliciesSchema,
  stepFields: {
    cache: stepCacheSchema.optional().describe("Caches the step's output (call and code steps)."),
    invalidate: invalidateSchema
      .optional()
      .describe('Cache entries removed once the step has succeeded (e.g. by a write endpoint).'),
  },
  sections: {
    auth: authSettingsSchema.optional().describe('How callers authenticate (API keys, JWT).'),
    consumers: consumersSchema.default([]).describe('Who calls the API, with their keys and plan.'),
    plans: z.record(z.string(), planSchema).default({}).describe('Plans by name: rate limit, quota, scopes.'),
    stores: storesSchema.optional().describe('Where shared state lives (memory by default, Redis).'),
    portal: portalSchema.default(portalSchema.parse({})),
    admin: adminSchema.default(adminSchema.parse({})),
    observability: observabilitySchema.default(observabilitySchema.parse({})),
  },
});

/** A config as a user writes it (defaults optional). */
export type ChorusConfig = z.input<typeof configSchema>;
/** A config after validation, with defaults filled in. */
export type ResolvedConfig = z.output<typeof configSchema>;
/** A service entry after validation: one of the kinds. */
export type ServiceConfig = z.output<typeof serviceSchema>;

/** Loads, interpolates and validates Chorus configs (YAML, JSON, TS/JS defineConfig modules). */
export const { loadConfig, loadConfigText, validateConfig } = createConfigLoader(configSchema);

/** The JSON Schema of the config format (committed as schema/chorus.schema.json, kept from drifting by a test). */
export function configJsonSchema(): Record<string, unknown> {
  return toConfigJsonSchema(configSchema);
}

/** Identity helper giving a TypeScript config its types: `export default defineConfig({...})`. */
export function defineConfig(config: ChorusConfig): ChorusConfig {
  return config;
}

/** The OpenAPI document of a config: each endpoint asks the inbound policy modules what they add. */
export function openApiDocument(
  config: ResolvedConfig,
  options: Omit<OpenApiOptions, 'inboundPolicies'> = {},
): OpenApiDocument {
  return generateOpenApi(config, { ...options, inboundPolicies: INBOUND_POLICIES });
}
