/**
 * GraphQL schemas a test file names (`graphqlSchemas`): the stand-in answers a graphql
 * connector's load-time introspection from them, so its documents are checked as against the
 * real service, and runs each call's document over the declared `data`, so data the schema does
 * not allow fails the call as the real service would.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, type GraphQLSchema, graphqlSync } from 'graphql';
import type { ConfigIssue } from '../../config/issues.ts';

/** GraphQL schemas by the endpoint they stand for: origin + path of the service's url. */
export type SchemasByEndpoint = ReadonlyMap<string, GraphQLSchema>;

/** Reads the SDL files a test file names, by service; issues at their keys. */
export function readGraphqlSchemas(
  file: string,
  named: Record<string, string>,
  issue: (at: (string | number)[], message: string) => ConfigIssue,
): { schemas: Map<string, GraphQLSchema>; issues: ConfigIssue[] } {
  const schemas = new Map<string, GraphQLSchema>();
  const issues: ConfigIssue[] = [];
  for (const [service, sdlFile] of Object.entries(named)) {
    try {
      schemas.set(service, buildSchema(readFileSync(path.resolve(path.dirname(file), sdlFile), 'utf8')));
    } catch (error) {
      issues.push(
        issue(['graphqlSchemas', service], `cannot use the schema "${sdlFile}": ${(error as Error).message}`),
      );
    }
  }
  return { schemas, issues };
}

/** The schemas by endpoint (origin + path) of the graphql services that have one. */
export function schemasByEndpoint(
  services: Record<string, { kind: string; url?: string | undefined; urls?: readonly string[] | undefined }>,
  schemas: ReadonlyMap<string, GraphQLSchema>,
): SchemasByEndpoint {
  const byEndpoint = new Map<string, GraphQLSchema>();
  for (const [name, schema] of schemas) {
    const service = services[name];
    if (service?.kind !== 'graphql') continue;
    for (const url of service.urls ?? (service.url === undefined ? [] : [service.url])) {
      const parsed = new URL(url);
      byEndpoint.set(parsed.origin + parsed.pathname, schema);
    }
  }
  return byEndpoint;
}

/** Runs a request body's query over the schema with `rootValue`; the JSON result. */
export function runGraphql(schema: GraphQLSchema, body: string, rootValue: unknown): string {
  let request: { query?: unknown; variables?: unknown; operationName?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return JSON.stringify({ errors: [{ message: 'the request body is not JSON' }] });
  }
  const result = graphqlSync({
    schema,
    source: String(request.query ?? ''),
    rootValue,
    variableValues: (request.variables ?? null) as Record<string, unknown> | null,
    operationName: typeof request.operationName === 'string' ? request.operationName : null,
  });
  return JSON.stringify(result);
}
