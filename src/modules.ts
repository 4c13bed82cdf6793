/**
 * The one list of modules: every connector kind, inbound policy and upstream policy Chorus
 * knows, and the config format they make together. Adding a connector kind is one folder under
 * src/connectors/ plus one line in CONNECTORS; the config schema, the JSON Schema and the docs'
 * kind table follow from this list. Nothing below this file imports it.
 */
import { z } from 'zod';
import { toConfigJsonSchema } from './config/json-schema.ts';
import { createConfigLoader } from './config/load.ts';
import { buildConfigSchema } from './config/schema.ts';
import { amqpConnector } from './connectors/amqp/index.ts';
import { graphqlConnector } from './connectors/graphql/index.ts';
import { grpcConnector } from './connectors/grpc/index.ts';
import { httpConnector } from './connectors/http/index.ts';
import { natsConnector } from './connectors/nats/index.ts';
import { soapConnector } from './connectors/soap/index.ts';
import { xmlConnector } from './connectors/xml/index.ts';
import type { ConnectorModule } from './contracts/connector.ts';
import { observabilitySchema } from './observability/schema.ts';
import { authSettingsSchema } from './policies/auth/schema.ts';
import { invalidateSchema, stepCacheSchema } from './policies/cache/schema.ts';
import { consumersSchema, planSchema } from './policies/consumers/schema.ts';
import { endpointPoliciesSchema } from './policies/schema.ts';
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
] as const satisfies readonly ConnectorModule[];

/** The connector module of a kind. */
export const connectorModules: ReadonlyMap<string, ConnectorModule> = new Map(
  CONNECTORS.map((module) => [module.kind, module as unknown as ConnectorModule]),
);

/** The connector kinds' service schemas, as a tuple (so the union keeps each kind's type). */
type SchemasOf<T extends readonly { readonly schema: z.ZodObject }[]> = {
  -readonly [K in keyof T]: T[K]['schema'];
};
type ConnectorSchemas = SchemasOf<typeof CONNECTORS>;

/** A backend service: one of the connector kinds' schemas. */
export const serviceSchema = z
  .discriminatedUnion('kind', CONNECTORS.map((module) => module.schema) as unknown as ConnectorSchemas)
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
