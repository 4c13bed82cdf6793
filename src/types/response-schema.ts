/**
 * Each endpoint's response schemas, inferred from its response templates and the types of what
 * they read (a passthrough answer — no body template — gets the last step's type, so an endpoint
 * that forwards a SOAP, gRPC or GraphQL answer documents its shape). A `schema` declared on the
 * response case wins (to pin the published contract). Worked out when the OpenAPI document is
 * first asked for, not at load.
 */
import type { CoreConfig, EndpointConfig } from '../config/schema.ts';
import { compileTemplate } from '../expressions/template.ts';
import { compiledFlowTypes, createFlowTypes, type FlowTypeInputs, type FlowTypes } from './flow-types.ts';
import { embed, type FlowType, type JsonSchema, resolve, union, variants } from './json-type.ts';

const EVERY_NAME = new Set(['request', 'steps', 'env', 'vars', 'warnings']);

/** An OpenAPI media type object for a status of an endpoint: the schema and an example. */
export function responseMediaType(
  config: CoreConfig,
  endpoint: EndpointConfig,
  status: number,
): Record<string, unknown> {
  const schema = responseSchema(config, endpoint, status);
  const media: Record<string, unknown> = { schema };
  const example = exampleOf(schema, 0);
  if (example !== undefined && Object.keys(schema).length > 0) media.example = example;
  return media;
}

/** The JSON Schema of an endpoint's body for a status: declared, else inferred ({} when unknown). */
export function responseSchema(config: CoreConfig, endpoint: EndpointConfig, status: number): JsonSchema {
  const types =
    compiledFlowTypes(endpoint) ??
    // Not compiled (a document made from a config alone): no service types, the rest still typed.
    createFlowTypes(
      { config, services: new Map() } satisfies FlowTypeInputs,
      endpoint,
      ['endpoints', -1],
      false,
    );
  const cases: { status?: number | string; body?: unknown; schema?: unknown }[] = Array.isArray(
    endpoint.response,
  )
    ? endpoint.response
    : [endpoint.response ?? {}];
  const found: FlowType[] = [];
  for (const [index, entry] of cases.entries()) {
    const entryStatus = typeof entry.status === 'number' ? entry.status : 200;
    if (entryStatus !== status) continue;
    const declared = entry.schema;
    if (typeof declared === 'object' && declared !== null) return declared as JsonSchema;
    found.push(caseType(types, endpoint, entry.body, index));
  }
  const type = union(found);
  return type === undefined ? {} : embed(type);
}

function caseType(types: FlowTypes, endpoint: EndpointConfig, body: unknown, index: number): FlowType {
  if (body === undefined) {
    const last = endpoint.flow.at(-1);
    return last === undefined ? undefined : types.stepType(last.id);
  }
  const at = Array.isArray(endpoint.response) ? ['response', index, 'body'] : ['response', 'body'];
  const template = compileTemplate(body, EVERY_NAME, []);
  return types.templateType(template, body, ['endpoints', -1, ...at]);
}

/** An example value of a schema (its own examples first), for the portal; undefined when it cannot say. */
export function exampleOf(schema: JsonSchema, depth: number): unknown {
  if (depth > 8) return undefined;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const [first] = variants({ schema, root: schema });
  if (first === undefined) return schema.type === 'null' ? null : undefined;
  const resolved = resolve(first)!.schema;
  if (resolved !== schema) return exampleOf(resolved, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((entry) => entry !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return schema.format === 'date-time' ? '2024-01-01T00:00:00Z' : 'string';
    case 'integer':
      return 0;
    case 'number':
      return 0;
    case 'boolean':
      return true;
    case 'array': {
      const item =
        typeof schema.items === 'object' && schema.items !== null
          ? exampleOf(schema.items as JsonSchema, depth + 1)
          : undefined;
      return item === undefined ? [] : [item];
    }
    default: {
      const properties = schema.properties as Record<string, JsonSchema> | undefined;
      if (properties === undefined) return undefined;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(properties)) {
        const value = exampleOf(child, depth + 1);
        out[key] = value === undefined ? null : value;
      }
      return out;
    }
  }
}
