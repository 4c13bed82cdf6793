/**
 * The `soap` connector: calls the operations of a SOAP 1.1 or 1.2 service as its WSDL describes
 * them. The WSDL and its schemas are read once in createSoapConnector, which precomputes for each
 * operation the SOAPAction, the envelope's namespace declarations and the shapes that write the
 * request (XSD order and namespaces) and read the answer (arrays and typed values); a call writes
 * one envelope, posts it, and reads the Body back as JSON or a Fault as an error.
 */

import { parseDuration, parseSize } from '../../config/units.ts';
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
import {
  buildHeaders,
  compileHeaders,
  contentTypeOf,
  type OperationExtras,
  type XmlAnswer,
  XmlHttpClient,
} from '../../xml/http-exchange.ts';
import { decodeXmlBytes, isXmlMediaType, mediaTypeOf, parseXml, XmlDecodeError } from '../../xml/parse.ts';
import { applyShape } from '../../xml/shape.ts';
import { XmlWriteError } from '../../xml/write.ts';
import { unknownOperation } from '../call-errors.ts';
import { assignPrefixes, type EnvelopeParts, envelopeParts, readBody, writeEnvelope } from './envelope.ts';
import type { SoapServiceConfig } from './schema.ts';
import { loadWsdl, type WsdlOperation, type WsdlPort } from './wsdl.ts';
import { contentJsonSchema, WsdlError } from './xsd.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
/** Headers the connector sets on every call; the config and input may not. */
const MANAGED_HEADERS = ['content-type', 'soapaction'];
const MANAGED_HEADER_SET: ReadonlySet<string> = new Set(MANAGED_HEADERS);
/** What a SOAPAction may hold to be sent in a header (quoted) or a content-type parameter. */
const ACTION_TEXT = /^[\x20-\x21\x23-\x7e]*$/;

/** One operation with everything its calls need precomputed. */
interface CompiledOperation {
  readonly wsdl: WsdlOperation;
  /** The content type, with the action parameter for SOAP 1.2. */
  readonly contentType: string;
  /** The SOAPAction header (SOAP 1.1), quoted; undefined for 1.2. */
  readonly soapAction: string | undefined;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `soap` service, or the issues that keep its config from loading. */
export async function createSoapConnector(
  config: SoapServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;
  const timeoutMs = parseDuration(config.timeout ?? DEFAULT_TIMEOUT_MS);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    issues.push({ path: ['timeout'], message: 'the timeout must be a duration above 0, such as "5s"' });
  }
  const keepAliveMs = parseDuration(config.keepAliveTimeout);
  if (keepAliveMs === undefined || keepAliveMs <= 0) {
    issues.push({
      path: ['keepAliveTimeout'],
      message: 'keepAliveTimeout must be a duration above 0, such as "4s"',
    });
  }
  const maxResponseBytes = parseSize(config.maxResponseBytes);
  if (maxResponseBytes === undefined) {
    issues.push({ path: ['maxResponseBytes'], message: 'expected a size such as 1024, "512kb" or "1mb"' });
  }
  const staticHeaders = Object.freeze(compileHeaders(config.headers, ['headers'], issues, MANAGED_HEADERS));

  let port: WsdlPort;
  try {
    port = await loadWsdl(config.wsdl, ctx.baseDir, {
      version: config.version,
      port: config.port,
      timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  } catch (error) {
    if (!(error instanceof WsdlError)) throw error;
    return { issues: [...issues, { path: ['wsdl'], message: `the WSDL cannot be used: ${error.message}` }] };
  }

  // The operations flows may call: those the config lists, else every one the port has.
  const chosen: WsdlOperation[] = [];
  if (Object.keys(config.operations).length === 0) {
    chosen.push(...port.operations.values());
    for (const [name, reason] of port.unsupported) {
      ctx.logger.warn({ service, operation: name }, `soap connector: operation left out: ${reason}`);
    }
  } else {
    for (const name of Object.keys(config.operations)) {
      const operation = port.operations.get(name);
      const unsupported = port.unsupported.get(name);
      if (operation !== undefined) chosen.push(operation);
      else if (unsupported !== undefined) {
        issues.push({
          path: ['operations', name],
          message: `operation "${name}" cannot be called: ${unsupported}`,
        });
      } else {
        const known = [...port.operations.keys(), ...port.unsupported.keys()];
        issues.push({
          path: ['operations', name],
          message: `the WSDL port "${port.name}" has no operation "${name}" (operations: ${known.join(', ') || 'none'})`,
        });
      }
    }
  }

  const endpoint = endpointOf(config.url, port, issues);
  const compiled = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  const mediaType = port.version === '1.1' ? 'text/xml' : 'application/soap+xml';
  for (const operation of chosen) {
    const action = operation.soapAction;
    if (!ACTION_TEXT.test(action)) {
      issues.push({
        path: ['wsdl'],
        message: `the soapAction of operation "${operation.name}" cannot be sent in a header`,
      });
      continue;
    }
    compiled.set(operation.name, {
      wsdl: operation,
      contentType:
        port.version === '1.2' && action !== ''
          ? `${mediaType}; charset=utf-8; action="${action}"`
          : `${mediaType}; charset=utf-8`,
      soapAction: port.version === '1.1' ? `"${action}"` : undefined,
      extras: Object.freeze({ service, operation: operation.name }),
    });
    const summary = config.operations[operation.name]?.summary ?? operation.documentation;
    const description: OperationDescription = {
      name: operation.name,
      requiredParams: Object.freeze([]),
      // A WSDL says nothing of side effects: never retried unless declared.
      idempotent: false,
      soapAction: action,
      soapVersion: port.version,
      style: operation.style,
      input: contentJsonSchema(operation.input.type),
      output: operation.output === undefined ? null : contentJsonSchema(operation.output.type),
    };
    if (summary !== undefined) description.summary = summary;
    descriptions.push(Object.freeze(description));
  }

  if (
    issues.length > 0 ||
    endpoint === undefined ||
    timeoutMs === undefined ||
    keepAliveMs === undefined ||
    maxResponseBytes === undefined
  ) {
    return { issues };
  }

  let envelope: EnvelopeParts;
  let client: XmlHttpClient;
  try {
    const declarations = assignPrefixes(chosen);
    envelope = envelopeParts(port.version, declarations, config.security?.usernameToken);
    client = new XmlHttpClient(endpoint.origin, {
      connections: config.connections,
      keepAliveMs,
      maxResponseBytes,
      logger: ctx.logger,
      service,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { issues: [{ path: ['security'], message: `cannot set up the service: ${reason}` }] };
  }

  return new SoapConnector({
    service,
    client,
    path: endpoint.pathname + endpoint.search,
    envelope,
    staticHeaders,
    operations: compiled,
    descriptions: Object.freeze(descriptions),
  });
}

/** The endpoint: the config url, else the port's soap:address. */
function endpointOf(url: string | undefined, port: WsdlPort, issues: ConnectorIssue[]): URL | undefined {
  const address = url ?? port.address;
  const at = url === undefined ? ['wsdl'] : ['url'];
  if (address === undefined) {
    issues.push({ path: ['wsdl'], message: `the WSDL port "${port.name}" has no soap:address; set url` });
    return undefined;
  }
  let endpoint: URL;
  try {
    endpoint = new URL(address);
  } catch {
    issues.push({ path: at, message: `the endpoint "${address}" is not a valid URL` });
    return undefined;
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    issues.push({ path: at, message: `the endpoint "${address}" is not an http(s) URL; set url` });
    return undefined;
  }
  if (endpoint.username !== '' || endpoint.password !== '') {
    issues.push({
      path: at,
      message: 'credentials in the endpoint URL are not sent; use headers or security',
    });
    return undefined;
  }
  return endpoint;
}

interface SoapConnectorParts {
  service: string;
  client: XmlHttpClient;
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
  readonly #client: XmlHttpClient;
  readonly #path: string;
  readonly #envelope: EnvelopeParts;
  readonly #staticHeaders: Readonly<Record<string, string>>;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(parts: SoapConnectorParts) {
    this.service = parts.service;
    this.#client = parts.client;
    this.#path = parts.path;
    this.#envelope = parts.envelope;
    this.#staticHeaders = parts.staticHeaders;
    this.#operations = parts.operations;
    this.#descriptions = parts.descriptions;
  }

  async call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
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
      MANAGED_HEADER_SET,
    );
    headers['content-type'] = op.contentType;
    if (op.soapAction !== undefined) headers.soapaction = op.soapAction;
    const answer = await this.#client.exchange(
      { method: 'POST', path: this.#path, headers, body },
      call,
      op.extras,
    );
    return decodeAnswer(op, answer);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/**
 * Reads an answer: a Fault (whatever the status, since SOAP 1.1 sends Faults with 500) is a
 * protocol error; other error statuses are status errors; a success is the Body content as JSON.
 */
function decodeAnswer(op: CompiledOperation, answer: XmlAnswer): ConnectorResult {
  const { status, headers, body } = answer;
  const success = status >= 200 && status < 300;
  if (body.length === 0) {
    if (success) return { output: null, status, headers };
    throw statusError(op, answer, '');
  }
  const contentType = contentTypeOf(headers);
  const mediaType = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (!isXmlMediaType(mediaType)) {
    if (!success) throw statusError(op, answer, body.toString('utf8'));
    throw decodeError(op, `answered ${mediaType === '' ? 'without a content type' : mediaType}, not XML`);
  }
  let document: Record<string, unknown>;
  try {
    document = parseXml(decodeXmlBytes(body, contentType));
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    if (!success) throw statusError(op, answer, body.toString('utf8'));
    throw decodeError(op, error.message, error);
  }
  const read = readBody(document);
  if (read.kind === 'fault') {
    const { faultcode, faultstring, fault } = read.fault;
    throw new ChorusError(
      'CHORUS_UPSTREAM_PROTOCOL',
      `service "${op.extras.service}" operation "${op.extras.operation}" answered a SOAP Fault: ${faultcode} ${faultstring}`.trimEnd(),
      // Flows read error.body in onError fallbacks: the whole Fault is there, detail included.
      { extras: { ...op.extras, faultcode, faultstring }, data: { status, body: { fault }, headers } },
    );
  }
  if (!success) throw statusError(op, answer, body.toString('utf8'));
  if (read.kind === 'not-soap') throw decodeError(op, read.reason);
  const output = op.wsdl.output;
  if (read.value === null || output === undefined) return { output: read.value, status, headers };
  try {
    return { output: applyShape(read.value, output, read.name ?? output.local), status, headers };
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    throw decodeError(op, `answered a value its WSDL does not allow: ${error.message}`, error);
  }
}

function statusError(op: CompiledOperation, answer: XmlAnswer, text: string): ChorusError {
  const status = answer.status;
  return new ChorusError(
    'CHORUS_UPSTREAM_STATUS',
    `service "${op.extras.service}" operation "${op.extras.operation}" answered ${status}`,
    {
      retryable: status === 502 || status === 503 || status === 504,
      extras: { ...op.extras, upstreamStatus: status },
      data: { status, body: text, headers: answer.headers },
    },
  );
}

function decodeError(op: CompiledOperation, reason: string, cause?: unknown): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_DECODE',
    `service "${op.extras.service}" operation "${op.extras.operation}" ${reason.startsWith('answered') ? reason : `answered XML that cannot be read: ${reason}`}`,
    { cause, extras: op.extras },
  );
}
