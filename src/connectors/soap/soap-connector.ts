/**
 * The `soap` connector: calls the operations of a SOAP 1.1 or 1.2 service as its WSDL describes
 * them, through the HTTP transport (pools, TLS, balancing over `urls`). The WSDL and its schemas
 * are read once in createSoapConnector, which precomputes for each operation the SOAPAction, the
 * envelope's namespace declarations and the shapes that write the request (XSD order and
 * namespaces) and read the answer (arrays and typed values); a call writes one envelope, posts
 * it, and reads the Body back as JSON or a Fault as an error.
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
import { ChorusError } from '../../errors/catalogue.ts';
import type { HttpCluster } from '../../transports/http/cluster.ts';
import { buildHeaders, compileHeaders } from '../../transports/http/headers.ts';
import { openCluster, readTransportLimits } from '../../transports/http/open-cluster.ts';
import { XmlWriteError } from '../../xml/write.ts';
import { decodeSoapAnswer } from './decode-answer.ts';
import { endpointKey, soapEndpoints } from './endpoints.ts';
import { assignPrefixes, type EnvelopeParts, envelopeParts, writeEnvelope } from './envelope.ts';
import {
  type CompiledOperation,
  chooseOperations,
  compileOperations,
  SOAP_HEADER_RULES,
} from './operations.ts';
import type { SoapServiceConfig } from './schema.ts';
import { loadWsdl, type WsdlPort } from './wsdl.ts';
import { WsdlError } from './xsd-shapes.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** Creates the connector of one `soap` service, or the issues that keep its config from loading. */
export async function createSoapConnector(
  config: SoapServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;
  const limits = readTransportLimits(config, ctx.baseDir, issues);
  const staticHeaders = Object.freeze(
    compileHeaders(config.headers, ['headers'], issues, SOAP_HEADER_RULES.managed),
  );

  let port: WsdlPort;
  try {
    port = await loadWsdl(config.wsdl, ctx.baseDir, {
      version: config.version,
      port: config.port,
      timeoutMs: limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  } catch (error) {
    if (!(error instanceof WsdlError)) throw error;
    return { issues: [...issues, { path: ['wsdl'], message: `the WSDL cannot be used: ${error.message}` }] };
  }

  const chosen = chooseOperations(config, port, issues, ctx.logger, service);
  const endpoints = soapEndpoints(config, port, issues);
  const { operations, descriptions } = compileOperations(config, port, chosen, service, issues);
  if (issues.length > 0 || endpoints.length === 0 || limits === undefined) return { issues };

  let envelope: EnvelopeParts;
  try {
    envelope = envelopeParts(port.version, assignPrefixes(chosen), config.security?.usernameToken);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { issues: [{ path: ['security'], message: `cannot set up the service: ${reason}` }] };
  }
  // Endpoint URLs: health check paths start at the origin's root.
  const owner = {
    service,
    kind: 'soap',
    logger: ctx.logger,
    healthBasePath: '',
    standInPool: ctx.standIn?.httpPool,
  };
  const cluster = openCluster(endpoints, limits, owner, (index) => endpointKey(config, index));
  if ('issues' in cluster) return cluster;
  const endpoint = endpoints[0]!;
  return new SoapConnector({
    service,
    cluster,
    path: endpoint.pathname + endpoint.search,
    envelope,
    staticHeaders,
    operations,
    descriptions,
  });
}

interface SoapConnectorParts {
  service: string;
  cluster: HttpCluster;
  path: string;
  envelope: EnvelopeParts;
  staticHeaders: Readonly<Record<string, string>>;
  operations: ReadonlyMap<string, CompiledOperation>;
  descriptions: readonly OperationDescription[];
}

/** A live `soap` connector. */
class SoapConnector implements Connector {
  readonly kind = 'soap';
  readonly service: string;
  readonly #cluster: HttpCluster;
  readonly #path: string;
  readonly #envelope: EnvelopeParts;
  readonly #staticHeaders: Readonly<Record<string, string>>;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(parts: SoapConnectorParts) {
    this.service = parts.service;
    this.#cluster = parts.cluster;
    this.#path = parts.path;
    this.#envelope = parts.envelope;
    this.#staticHeaders = parts.staticHeaders;
    this.#operations = parts.operations;
    this.#descriptions = parts.descriptions;
  }

  async call(call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    let body: string;
    try {
      body = writeEnvelope(this.#envelope, op.wsdl, call.input.body);
    } catch (error) {
      if (!(error instanceof XmlWriteError)) throw error;
      // The body comes from the step's input template, often from request data.
      throw new ChorusError(
        'CHORUS_VALIDATION_FAILED',
        `the input of ${op.extras.service}.${op.extras.operation} cannot be sent as XML: ${error.message}`,
        { extras: { ...op.extras, errors: [{ field: error.field, message: error.message }] } },
      );
    }
    const headers = buildHeaders(
      this.#staticHeaders,
      call.headers,
      call.input.headers,
      op.extras,
      SOAP_HEADER_RULES,
    );
    headers['content-type'] = op.contentType;
    if (op.soapAction !== undefined) headers.soapaction = op.soapAction;
    return this.#cluster.exchange(op, this.#path, headers, body, call, ctx, decodeSoapAnswer);
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
