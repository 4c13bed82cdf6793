/**
 * The `graphql` connector: runs named query and mutation documents against a GraphQL endpoint
 * through the HTTP transport (pools, TLS, balancing over `urls`, size cap, timeouts,
 * cancellation and their error codes); this module adds what GraphQL decides: documents parsed
 * and checked once at load (against the introspected schema when the service allows it), the
 * request body, and `errors` in answers.
 */
import type { GraphQLSchema } from 'graphql';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorIssue,
  ConnectorResult,
  HostStatus,
  OperationDescription,
} from '../../contracts/connector.ts';
import { unknownOperation } from '../../errors/call-errors.ts';
import type { HttpCluster } from '../../transports/http/cluster.ts';
import { buildHeaders, compileHeaders, type HeaderRules } from '../../transports/http/headers.ts';
import {
  openCluster,
  readServiceUrls,
  readTransportLimits,
  urlKey,
} from '../../transports/http/open-cluster.ts';
import { decodeGraphqlAnswer } from './decode-answer.ts';
import { validateDocument } from './documents.ts';
import { introspect } from './introspection.ts';
import { type LoadedDocument, loadDocuments } from './load-documents.ts';
import { type CompiledOperation, compileOperations } from './operations.ts';
import { buildBody, inputHeaders } from './request.ts';
import type { GraphqlServiceConfig } from './schema.ts';

/** Longest the load-time introspection query may take (less if the service timeout is shorter); a slow service only loses the schema check. */
const INTROSPECTION_TIMEOUT_MS = 3_000;
/** GraphQL over HTTP: the response media type the spec prefers, then plain JSON for older servers. */
const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';
/** Input headers are checked by undici when sending, as the http connector's are. */
const GRAPHQL_HEADER_RULES: HeaderRules = Object.freeze({
  managed: new Set<string>(),
  checkInputNames: false,
});

/** Creates the connector of one `graphql` service, or the issues that keep its config from loading. */
export async function createGraphqlConnector(
  config: GraphqlServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;
  const documents = await loadDocuments(config, ctx.baseDir, issues);
  if (issues.length > 0) return { issues };
  // Documents are POSTed to the endpoint URL's path on every host.
  const endpoints = readServiceUrls(config, issues, {});
  const limits = readTransportLimits(config, ctx.baseDir, issues);
  const headers = Object.freeze({ ...compileHeaders(config.headers, ['headers'], issues), accept: ACCEPT });
  if (issues.length > 0 || endpoints.length === 0 || limits === undefined) return { issues };
  const owner = {
    service,
    kind: 'graphql',
    logger: ctx.logger,
    healthBasePath: '',
    standInPool: ctx.standIn?.httpPool,
  };
  const cluster = openCluster(endpoints, limits, owner, (index) => urlKey(config, index));
  if ('issues' in cluster) return cluster;
  const target = { path: endpoints[0]!.pathname, headers };

  let schema: GraphQLSchema | undefined;
  if (config.introspect && documents.size > 0) {
    schema = await introspectedSchema(cluster, target, documents, limits.timeoutMs, ctx, issues);
  }
  if (issues.length > 0) {
    await cluster.close();
    return { issues };
  }
  const { operations, descriptions } = compileOperations(config, documents, service, schema);
  return new GraphqlConnector(service, cluster, target, operations, descriptions);
}

/** The introspected schema, with every document validated against it (problems go to `issues`). */
async function introspectedSchema(
  cluster: HttpCluster,
  target: { path: string; headers: Readonly<Record<string, string>> },
  documents: ReadonlyMap<string, LoadedDocument>,
  serviceTimeoutMs: number,
  ctx: ConnectorFactoryContext,
  issues: ConnectorIssue[],
): Promise<GraphQLSchema | undefined> {
  const timeoutMs = Math.min(INTROSPECTION_TIMEOUT_MS, serviceTimeoutMs);
  const introspected = await introspect(cluster, target, ctx.service, timeoutMs, ctx.logger);
  if (typeof introspected === 'string') {
    ctx.logger.warn(
      { service: ctx.service, reason: introspected },
      'graphql connector: no schema to validate documents against; they are checked for syntax only',
    );
    return undefined;
  }
  for (const [name, document] of documents) {
    for (const message of validateDocument(introspected, document.parsed, document.where)) {
      issues.push({ path: ['operations', name, ...document.at], message });
    }
  }
  return introspected;
}

/** A live `graphql` connector. */
class GraphqlConnector implements Connector {
  readonly kind = 'graphql';
  readonly service: string;
  readonly #cluster: HttpCluster;
  readonly #path: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(
    service: string,
    cluster: HttpCluster,
    target: { path: string; headers: Readonly<Record<string, string>> },
    operations: ReadonlyMap<string, CompiledOperation>,
    descriptions: readonly OperationDescription[],
  ) {
    this.service = service;
    this.#cluster = cluster;
    this.#path = target.path;
    this.#headers = target.headers;
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
    const received = inputHeaders(op, input.headers);
    const headers = buildHeaders(this.#headers, call.headers, received, op.extras, GRAPHQL_HEADER_RULES);
    return this.#cluster.exchange(op, this.#path, headers, body, call, ctx, decodeGraphqlAnswer);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  /** The hosts and their state, for status pages. */
  hosts(): HostStatus[] {
    return this.#cluster.hosts();
  }

  close(): Promise<void> {
    return this.#cluster.close();
  }
}
