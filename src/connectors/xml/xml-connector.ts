/**
 * The `xml` connector: calls the named operations of a plain XML-over-HTTP backend (legacy XML
 * APIs, RSS and Atom feeds) through the HTTP transport (pools, TLS, balancing over `urls`).
 * Requests are built like the http connector's (path placeholders, query, headers) with bodies
 * written as XML from JSON; answers are read to JSON with the conventions of
 * docs/connectors/xml.md, shaped by each operation's arrays/numbers/booleans paths. Everything
 * the config decides is computed once in createXmlConnector.
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
import { buildHeaders } from '../../transports/http/headers.ts';
import { openBasePathCluster } from '../../transports/http/open-cluster.ts';
import { requestTarget } from '../../transports/http/request-target.ts';
import { decodeXmlAnswer } from './decode-answer.ts';
import { type CompiledOperation, compileOperations, XML_HEADER_RULES } from './operations.ts';
import { buildBody } from './request-body.ts';
import type { XmlServiceConfig } from './schema.ts';

const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

/** Creates the connector of one `xml` service, or the issues that keep its config from loading. */
export async function createXmlConnector(
  config: XmlServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const service = ctx.service;
  const opened = openBasePathCluster(
    config,
    { service, kind: 'xml', logger: ctx.logger, baseDir: ctx.baseDir, standInPool: ctx.standIn?.httpPool },
    { credentialsHint: 'put them in headers (e.g. authorization)' },
    (basePath, issues) => compileOperations(config, service, basePath, issues, ctx.baseDir),
  );
  if ('issues' in opened) return opened;
  const { operations, descriptions } = opened.compiled;
  return new XmlConnector(service, opened.cluster, operations, descriptions);
}

/** A live `xml` connector. */
class XmlConnector implements Connector {
  readonly kind = 'xml';
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

  async call(call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    const input = call.input;
    const path = requestTarget(op, input);
    const headers = buildHeaders(op.headers, call.headers, input.headers, op.extras, XML_HEADER_RULES);
    const body = buildBody(op, input.body);
    if (body !== null) headers['content-type'] ??= XML_CONTENT_TYPE;
    return this.#cluster.exchange(op, path, headers, body, call, ctx, decodeXmlAnswer);
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
