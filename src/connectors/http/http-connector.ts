/**
 * The `http` connector: calls the named operations of a REST/JSON backend through the HTTP
 * transport (one pooled keep-alive client per origin; with several `urls`, the balancer picks the
 * origin of each call and of each retry attempt, and ejects failing hosts). Everything the config
 * decides (base path, path templates, static headers and query, limits) is computed once in
 * createHttpConnector, so a call only fills in its own data.
 */
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
import { buildHeaders, type OutgoingHeaders } from '../../transports/http/headers.ts';
import { openBasePathCluster } from '../../transports/http/open-cluster.ts';
import { requestTarget } from '../../transports/http/request-target.ts';
import { decodeHttpAnswer } from './decode-answer.ts';
import { type CompiledOperation, compileOperations, HTTP_HEADER_RULES } from './operations.ts';
import { buildBody } from './request-body.ts';
import type { HttpServiceConfig } from './schema.ts';

/** Creates the connector of one `http` service, or the issues that keep its config from loading. */
export async function createHttpConnector(
  config: HttpServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const service = ctx.service;
  // One or several base URLs; they must share their path, which operations' paths extend.
  const opened = openBasePathCluster(
    config,
    { service, kind: 'http', logger: ctx.logger, baseDir: ctx.baseDir, standInPool: ctx.standIn?.httpPool },
    { credentialsHint: 'put them in auth or headers' },
    (basePath, issues) => compileOperations(config, service, basePath, issues, ctx.baseDir),
  );
  if ('issues' in opened) return opened;
  const { operations, descriptions } = opened.compiled;
  return new HttpConnector(service, opened.cluster, operations, descriptions);
}

/** A live `http` connector; its methods live on the prototype, so a call allocates almost no closures. */
class HttpConnector implements Connector {
  readonly kind = 'http';
  readonly service: string;
  readonly #cluster: HttpCluster;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(
    service: string,
    cluster: HttpCluster,
    operations: ReadonlyMap<string, CompiledOperation>,
    descriptions: readonly OperationDescription[],
  ) {
    this.service = service;
    this.#cluster = cluster;
    this.#operations = operations;
    this.#descriptions = descriptions;
  }

  /** Builds the request, then hands it to the transport (no async layer of its own). */
  call(call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) return Promise.reject(unknownOperation(this.service, call.operation));
    const input = call.input;
    let path: string;
    let headers: OutgoingHeaders;
    let body: string | null;
    try {
      path = requestTarget(op, input);
      headers = buildHeaders(op.headers, call.headers, input.headers, op.extras, HTTP_HEADER_RULES);
      body = buildBody(op, input, headers);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#cluster.exchange(op, path, headers, body, call, ctx, decodeHttpAnswer);
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
