/**
 * Load time of the `graphql` connector: each operation compiled once (the request body up to its
 * variables) and described for the portal, load-time checks and the retry policy.
 */
import type { GraphQLSchema } from 'graphql';
import type { OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import { dataSchema, type JsonSchema, type ParsedDocument, variablesSchema } from './documents.ts';
import type { LoadedDocument } from './load-documents.ts';
import type { GraphqlServiceConfig } from './schema.ts';

/** One operation with everything its calls need precomputed. */
export interface CompiledOperation {
  readonly name: string;
  readonly method: 'POST';
  /** The request body up to the variables: `{"query":…,"operationName":…,"variables":`. */
  readonly bodyPrefix: string;
  readonly partial: boolean;
  /** How the JSON answer is read (as the http connector reads it). */
  readonly accept: null;
  readonly responseType: 'auto';
  readonly extras: OperationExtras;
}

/** The compiled operations of a service and their descriptions. */
export function compileOperations(
  config: GraphqlServiceConfig,
  documents: ReadonlyMap<string, LoadedDocument>,
  service: string,
  schema: GraphQLSchema | undefined,
): { operations: Map<string, CompiledOperation>; descriptions: readonly OperationDescription[] } {
  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const document = documents.get(name)!;
    const { parsed } = document;
    const partial = operation.errors === 'partial';
    operations.set(name, {
      name,
      method: 'POST',
      bodyPrefix: `{"query":${JSON.stringify(document.source)}${
        parsed.operationName === undefined ? '' : `,"operationName":${JSON.stringify(parsed.operationName)}`
      },"variables":`,
      partial,
      accept: null,
      responseType: 'auto',
      extras: Object.freeze({ service, operation: name }),
    });
    descriptions.push(Object.freeze(describeOperation(name, operation.summary, parsed, partial, schema)));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}

function describeOperation(
  name: string,
  summary: string | undefined,
  parsed: ParsedDocument,
  partial: boolean,
  schema: GraphQLSchema | undefined,
): OperationDescription {
  const inputSchema: JsonSchema = {
    type: 'object',
    properties: {
      variables: variablesSchema(parsed, schema),
      headers: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
    },
  };
  const description: OperationDescription = {
    name,
    // Variables go in input.variables, not path params: nothing for the engine's params check.
    requiredParams: [],
    // Queries read; mutations write.
    idempotent: parsed.operationType === 'query',
    operationType: parsed.operationType,
    inputSchema,
  };
  if (summary !== undefined) description.summary = summary;
  if (parsed.operationName !== undefined) description.operationName = parsed.operationName;
  const data = schema === undefined ? undefined : dataSchema(parsed, schema);
  if (data !== undefined) {
    description.outputSchema = partial
      ? {
          type: 'object',
          properties: { data, errors: { type: 'array', items: { type: 'object' } } },
          required: ['data', 'errors'],
        }
      : data;
  }
  return description;
}
