/**
 * The `graphql` connector: runs named query and mutation documents against a GraphQL endpoint.
 * GraphQL is a binding over the HTTP transport, so the transport is the `http` connector itself
 * (one pooled undici client, size cap, timeouts, cancellation and their error codes); this module
 * adds what GraphQL decides: documents parsed and checked once at load (against the introspected
 * schema when the service allows it), the request body, and `errors` in answers.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildClientSchema,
  type GraphQLSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
} from 'graphql';
import type { Logger } from 'pino';
import { parseDuration } from '../../config/units.ts';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { unknownOperation } from '../call-errors.ts';
import { createHttpConnector } from '../http/http-connector.ts';
import type { HttpOperationConfig, HttpServiceConfig } from '../http/schema.ts';
import {
  dataSchema,
  type JsonSchema,
  type ParsedDocument,
  parseDocument,
  validateDocument,
  variablesSchema,
} from './documents.ts';
import type { GraphqlServiceConfig } from './schema.ts';

/** Longest the load-time introspection query may take (less if the service timeout is shorter); a slow service only loses the schema check. */
const INTROSPECTION_TIMEOUT_MS = 3_000;
/** The inner http operation that carries the introspection query; "$" keeps it apart from config names. */
const INTROSPECTION_OPERATION = '$introspect';
/** At most this many backend error messages go into a problem document, each cut to this length. */
const MAX_REPORTED_ERRORS = 10;
const MAX_MESSAGE_LENGTH = 300;
/** GraphQL over HTTP: the response media type the spec prefers, then plain JSON for older servers. */
const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** The public fields every error of one operation carries. */
type OperationExtras = { readonly service: string; readonly operation: string };

/** A document read and parsed at load, with where it came from (for issues and messages). */
interface LoadedDocument {
  readonly parsed: ParsedDocument;
  readonly source: string;
  readonly at: string[];
  readonly where: string;
}

/** One operation with everything its calls need precomputed. */
interface CompiledOperation {
  readonly name: string;
  /** The request body up to the variables: `{"query":…,"operationName":…,"variables":`. */
  readonly bodyPrefix: string;
  readonly partial: boolean;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `graphql` service, or the issues that keep its config from loading. */
export async function createGraphqlConnector(
  config: GraphqlServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;

  const documents = new Map<string, LoadedDocument>();
  const entries = Object.entries(config.operations);
  const sources = await Promise.all(
    entries.map(([, operation]) => loadSource(operation.query, operation.file, ctx.baseDir)),
  );
  entries.forEach(([name, operation], index) => {
    const loaded = sources[index]!;
    if ('problem' in loaded) {
      issues.push({ path: ['operations', name, ...loaded.at], message: loaded.problem });
      return;
    }
    const where = loaded.at[0] === 'file' ? `document ${operation.file}` : 'the query';
    const parsed = parseDocument(loaded.source, operation.operationName, where);
    if ('problem' in parsed) {
      const at =
        parsed.at === 'operationName' && operation.operationName !== undefined
          ? ['operationName']
          : loaded.at;
      issues.push({ path: ['operations', name, ...at], message: parsed.problem });
      return;
    }
    documents.set(name, { parsed, source: loaded.source, at: loaded.at, where });
  });

  // The transport: one http connector to the endpoint, with one POST operation per document.
  let url: URL | undefined;
  try {
    url = new URL(config.url);
  } catch {
    issues.push({ path: ['url'], message: `"${config.url}" is not a valid URL` });
  }
  if (issues.length > 0 || url === undefined) return { issues };

  const transportOperation: HttpOperationConfig = {
    method: 'POST',
    path: url.pathname,
    headers: { accept: ACCEPT },
    responseType: 'auto',
  };
  const transportOperations: Record<string, HttpOperationConfig> = {};
  for (const name of documents.keys()) transportOperations[name] = transportOperation;
  transportOperations[INTROSPECTION_OPERATION] = transportOperation;
  const transportConfig: HttpServiceConfig = {
    kind: 'http',
    url: url.origin,
    maxResponseBytes: config.maxResponseBytes,
    connections: config.connections,
    keepAliveTimeout: config.keepAliveTimeout,
    operations: transportOperations,
  };
  if (config.timeout !== undefined) transportConfig.timeout = config.timeout;
  if (config.headers !== undefined) transportConfig.headers = config.headers;
  if (config.tls !== undefined) transportConfig.tls = config.tls;
  const transport = await createHttpConnector(transportConfig, ctx);
  if ('issues' in transport) {
    // The transport's own problems are the service's: its url path and shared keys.
    return {
      issues: transport.issues.map((found) => ({
        path: found.path[0] === 'operations' ? ['url'] : found.path,
        message: found.message,
      })),
    };
  }

  let schema: GraphQLSchema | undefined;
  if (config.introspect && documents.size > 0) {
    const serviceTimeoutMs = config.timeout === undefined ? undefined : parseDuration(config.timeout);
    const introspectionTimeoutMs = Math.min(
      INTROSPECTION_TIMEOUT_MS,
      serviceTimeoutMs ?? INTROSPECTION_TIMEOUT_MS,
    );
    const introspected = await introspect(transport, service, introspectionTimeoutMs, ctx.logger);
    if (typeof introspected === 'string') {
      ctx.logger.warn(
        { service, reason: introspected },
        'graphql connector: no schema to validate documents against; they are checked for syntax only',
      );
    } else {
      schema = introspected;
      for (const [name, document] of documents) {
        for (const message of validateDocument(schema, document.parsed, document.where)) {
          issues.push({ path: ['operations', name, ...document.at], message });
        }
      }
    }
  }
  if (issues.length > 0) {
    await transport.close();
    return { issues };
  }

  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const document = documents.get(name)!;
    const { parsed } = document;
    const partial = operation.errors === 'partial';
    operations.set(name, {
      name,
      bodyPrefix: `{"query":${JSON.stringify(document.source)}${
        parsed.operationName === undefined ? '' : `,"operationName":${JSON.stringify(parsed.operationName)}`
      },"variables":`,
      partial,
      extras: Object.freeze({ service, operation: name }),
    });
    descriptions.push(Object.freeze(describeOperation(name, operation.summary, parsed, partial, schema)));
  }

  return new GraphqlConnector(service, transport, operations, Object.freeze(descriptions));
}

/** A live `graphql` connector. */
class GraphqlConnector implements Connector {
  readonly kind = 'graphql';
  readonly service: string;
  readonly #transport: Connector;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(
    service: string,
    transport: Connector,
    operations: ReadonlyMap<string, CompiledOperation>,
    descriptions: readonly OperationDescription[],
  ) {
    this.service = service;
    this.#transport = transport;
    this.#operations = operations;
    this.#descriptions = descriptions;
  }

  async call(call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    const input = call.input;
    const body = buildBody(op, input.variables);
    const headers = buildHeaders(op, input.headers);
    let result: ConnectorResult;
    try {
      result = await this.#transport.call(
        {
          operation: op.name,
          input: { body, headers },
          headers: call.headers,
          signal: call.signal,
          timeoutMs: call.timeoutMs,
          deadlineBound: call.deadlineBound,
        },
        ctx,
      );
    } catch (error) {
      throw withGraphqlErrors(op, error);
    }
    return decodeAnswer(op, result, ctx.logger);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Load time

type Source = { source: string; at: string[] } | { problem: string; at: string[] };

async function loadSource(
  query: string | undefined,
  file: string | undefined,
  baseDir: string,
): Promise<Source> {
  if (query !== undefined && file !== undefined) {
    return { problem: 'give the document as query or as file, not both', at: ['file'] };
  }
  if (query !== undefined) return { source: query, at: ['query'] };
  if (file === undefined) return { problem: 'an operation needs a document: set query or file', at: [] };
  try {
    return { source: await readFile(path.resolve(baseDir, file), 'utf8'), at: ['file'] };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      problem: `cannot read document "${file}": ${typeof code === 'string' ? code : (error as Error).message}`,
      at: ['file'],
    };
  }
}

/** Asks the service for its schema; a string says why there is none. */
async function introspect(
  transport: Connector,
  service: string,
  timeoutMs: number,
  logger: Logger,
): Promise<GraphQLSchema | string> {
  let result: ConnectorResult;
  try {
    result = await transport.call(
      {
        operation: INTROSPECTION_OPERATION,
        input: {
          body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: false }) }),
          headers: JSON_HEADERS,
        },
        headers: {},
        signal: new AbortController().signal,
        timeoutMs,
        deadlineBound: false,
      },
      { requestId: `load:${service}`, logger },
    );
  } catch (error) {
    return `the introspection query failed: ${(error as Error).message}`;
  }
  const answer = result.output as { data?: unknown; errors?: unknown } | null;
  const data = typeof answer === 'object' && answer !== null ? answer.data : undefined;
  if (typeof data !== 'object' || data === null || !('__schema' in data)) {
    const messages = typeof answer === 'object' && answer !== null ? errorMessages(answer.errors) : [];
    return messages.length > 0
      ? `the service refused introspection: ${messages[0]}`
      : 'the introspection answer holds no schema';
  }
  try {
    return buildClientSchema(data as IntrospectionQuery);
  } catch (error) {
    return `the introspected schema is unusable: ${(error as Error).message}`;
  }
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

// ---------------------------------------------------------------------------------------------
// Call time

function buildBody(op: CompiledOperation, variables: unknown): string {
  if (variables === undefined || variables === null) return op.bodyPrefix + '{}}';
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.variables must be a map`,
    );
  }
  let json: string;
  try {
    json = JSON.stringify(variables);
  } catch (error) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.variables cannot be serialised as JSON`,
      error,
    );
  }
  return op.bodyPrefix + json + '}';
}

/** input.headers, less any content type: the body is always JSON. The transport checks the rest. */
function buildHeaders(op: CompiledOperation, inputHeaders: unknown): Record<string, unknown> {
  if (inputHeaders === undefined || inputHeaders === null) return JSON_HEADERS;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.headers must be a map`,
    );
  }
  const headers: Record<string, unknown> = {};
  const record = inputHeaders as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (name.toLowerCase() !== 'content-type') headers[name] = record[name];
  }
  headers['content-type'] = 'application/json';
  return headers;
}

function decodeAnswer(op: CompiledOperation, result: ConnectorResult, logger: Logger): ConnectorResult {
  const answer = result.output;
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered ${
        typeof answer === 'string' ? 'a body that is not JSON' : 'JSON that is not a GraphQL response'
      }`,
      { extras: op.extras, data: { status: result.status, body: answer, headers: result.headers } },
    );
  }
  const record = answer as { data?: unknown; errors?: unknown };
  const errors = record.errors;
  if ((errors !== undefined && !Array.isArray(errors)) || (errors === undefined && !('data' in record))) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered JSON that is not a GraphQL response`,
      { extras: op.extras, data: { status: result.status, body: answer, headers: result.headers } },
    );
  }
  const data = record.data ?? null;
  if (errors !== undefined && errors.length > 0) {
    if (!op.partial || data === null) throw protocolError(op, errors, data, result);
    logger.warn(
      { service: op.extras.service, operation: op.name, graphqlErrors: errorMessages(errors) },
      'graphql connector: answer with data and errors (errors: partial)',
    );
    return { ...result, output: { data, errors } };
  }
  const output = op.partial ? { data, errors: [] } : data;
  return { ...result, output };
}

// ---------------------------------------------------------------------------------------------
// Errors

function protocolError(
  op: CompiledOperation,
  errors: unknown[],
  data: unknown,
  result: ConnectorResult,
): ChorusError {
  const messages = errorMessages(errors);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ChorusError(
    'CHORUS_UPSTREAM_PROTOCOL',
    `service "${op.extras.service}" operation "${op.name}" answered GraphQL errors: ${messages[0]}${more}`,
    {
      extras: { ...op.extras, graphqlErrors: messages },
      data: { status: result.status, body: { data, errors }, headers: result.headers },
    },
  );
}

/**
 * An error status whose body is a GraphQL response (GraphQL over HTTP answers 4xx for documents
 * the server rejects) keeps its error messages in the problem, so the cause is visible.
 */
function withGraphqlErrors(op: CompiledOperation, error: unknown): unknown {
  if (!(error instanceof ChorusError) || error.code !== 'CHORUS_UPSTREAM_STATUS') return error;
  const body = (error.data as { body?: unknown } | undefined)?.body;
  const errors =
    typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  const messages = errorMessages(errors);
  if (messages.length === 0) return error;
  return new ChorusError(error.code, `${error.message}: ${messages[0]}`, {
    cause: error.cause,
    retryable: error.retryable,
    extras: { ...error.extras, ...op.extras, graphqlErrors: messages },
    data: error.data,
  });
}

/** The messages of a GraphQL `errors` list, at most MAX_REPORTED_ERRORS, each cut short. */
function errorMessages(errors: unknown): string[] {
  if (!Array.isArray(errors)) return [];
  return errors.slice(0, MAX_REPORTED_ERRORS).map((entry: unknown) => {
    const message =
      typeof entry === 'object' && entry !== null ? (entry as { message?: unknown }).message : undefined;
    const text = typeof message === 'string' ? message : '(an error without a message)';
    return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
  });
}

function internal(op: CompiledOperation, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras: op.extras });
}
