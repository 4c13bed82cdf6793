/**
 * The `xml` connector: calls the named operations of a plain XML-over-HTTP backend (legacy XML
 * APIs, RSS and Atom feeds). Requests are built like the http connector's (path placeholders,
 * query, headers) with bodies written as XML from JSON; answers are read to JSON with the
 * conventions of docs/connectors/xml.md, shaped by each operation's arrays/numbers/booleans paths.
 * Everything the config decides is computed once in createXmlConnector.
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
  internal,
  type OperationExtras,
  type XmlAnswer,
  XmlHttpClient,
} from '../../xml/http-exchange.ts';
import { decodeXmlBytes, isXmlMediaType, mediaTypeOf, parseXml, XmlDecodeError } from '../../xml/parse.ts';
import { applyShape, checkShapePath, type ShapeNode, shapeFromPaths } from '../../xml/shape.ts';
import { isXmlName, writeContent, writeElement, XML_DECLARATION, XmlWriteError } from '../../xml/write.ts';
import { unknownOperation } from '../call-errors.ts';
import { encodeStaticQuery, parsePathTemplate, requestTarget } from '../request-target.ts';
import type { XmlOperationConfig, XmlServiceConfig } from './schema.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ACCEPT = 'application/xml, text/xml, application/rss+xml, application/atom+xml, */*;q=0.1';
const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';
const NO_MANAGED_HEADERS: ReadonlySet<string> = new Set();

/** RFC 3986 path characters (pchar and "/"), percent-escapes allowed; anything else must be encoded. */

/** One operation with everything its calls need precomputed. */
interface CompiledOperation {
  readonly name: string;
  readonly method: XmlOperationConfig['method'];
  /** Literal path pieces around the placeholders; the service's base path is already in the first. */
  readonly literals: readonly string[];
  /** The placeholder names in path order; `literals` has one more entry. */
  readonly params: readonly string[];
  /** The encoded static query (`a=1&b=2`) or ''. */
  readonly staticQuery: string;
  /** Service and operation headers merged, names lowercased, with a default accept. */
  readonly headers: Readonly<Record<string, string>>;
  readonly accept: ReadonlySet<number> | null;
  /** The arrays/numbers/booleans of the answer, or undefined when there are none. */
  readonly shape: ShapeNode | undefined;
  readonly parseValues: boolean;
  readonly root: string | undefined;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `xml` service, or the issues that keep its config from loading. */
export async function createXmlConnector(
  config: XmlServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;

  let base: URL | undefined;
  try {
    base = new URL(config.url);
    if (base.username !== '' || base.password !== '') {
      issues.push({
        path: ['url'],
        message: 'credentials in the url are not sent; put them in headers (e.g. authorization)',
      });
    }
  } catch {
    issues.push({ path: ['url'], message: `"${config.url}" is not a valid URL` });
  }
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
  const serviceHeaders = compileHeaders(config.headers, ['headers'], issues);
  // The URL parser already normalised the base path; its trailing "/" is dropped because every
  // operation path starts with one.
  const basePath = base === undefined ? '' : base.pathname.replace(/\/+$/, '');

  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const at = ['operations', name];
    const template = parsePathTemplate(operation.path);
    if (typeof template === 'string') {
      issues.push({ path: [...at, 'path'], message: template });
      continue;
    }
    for (const key of ['arrays', 'numbers', 'booleans'] as const) {
      (operation[key] ?? []).forEach((path, index) => {
        const problem = checkShapePath(path);
        if (problem !== undefined) issues.push({ path: [...at, key, index], message: problem });
      });
    }
    if (operation.root !== undefined && !isXmlName(operation.root)) {
      issues.push({ path: [...at, 'root'], message: `"${operation.root}" is not an XML element name` });
    }
    const operationHeaders = compileHeaders(operation.headers, [...at, 'headers'], issues);
    const literals = [...template.literals];
    literals[0] = basePath + literals[0];
    const hasPaths = [operation.arrays, operation.numbers, operation.booleans].some((paths) => paths?.length);
    operations.set(name, {
      name,
      method: operation.method,
      literals,
      params: template.params,
      staticQuery: encodeStaticQuery(operation.query),
      headers: Object.freeze({ accept: DEFAULT_ACCEPT, ...serviceHeaders, ...operationHeaders }),
      accept: operation.accept === undefined ? null : new Set(operation.accept),
      shape: hasPaths || operation.parseValues ? shapeFromPaths(operation) : undefined,
      parseValues: operation.parseValues,
      root: operation.root,
      extras: Object.freeze({ service, operation: name }),
    });
    const description: OperationDescription = {
      name,
      requiredParams: Object.freeze([...new Set(template.params)]),
      // Retried only when declared in the retry policy (as before the transport was shared).
      idempotent: false,
      method: operation.method,
      path: operation.path,
    };
    if (operation.summary !== undefined) description.summary = operation.summary;
    descriptions.push(Object.freeze(description));
  }

  if (
    issues.length > 0 ||
    base === undefined ||
    timeoutMs === undefined ||
    keepAliveMs === undefined ||
    maxResponseBytes === undefined
  ) {
    return { issues };
  }

  let client: XmlHttpClient;
  try {
    client = new XmlHttpClient(base.origin, {
      connections: config.connections,
      keepAliveMs,
      maxResponseBytes,
      logger: ctx.logger,
      service,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { issues: [{ path: ['url'], message: `cannot create a client for ${base.origin}: ${reason}` }] };
  }
  return new XmlConnector(service, client, operations, Object.freeze(descriptions));
}

/** A live `xml` connector. */
class XmlConnector implements Connector {
  readonly kind = 'xml';
  readonly service: string;
  readonly #client: XmlHttpClient;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(
    service: string,
    client: XmlHttpClient,
    operations: ReadonlyMap<string, CompiledOperation>,
    descriptions: readonly OperationDescription[],
  ) {
    this.service = service;
    this.#client = client;
    this.#operations = operations;
    this.#descriptions = descriptions;
  }

  async call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    const input = call.input;
    const path = requestTarget(op, input);
    const headers = buildHeaders(op.headers, call.headers, input.headers, op.extras, NO_MANAGED_HEADERS);
    const body = buildBody(op, input.body);
    if (body !== null) headers['content-type'] ??= XML_CONTENT_TYPE;
    const answer = await this.#client.exchange({ method: op.method, path, headers, body }, call, op.extras);
    return decodeAnswer(op, answer);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * input.body as XML: a string is sent as it is; with `root`, the body is the root element's
 * content; without, an object whose one key is the root element.
 */
function buildBody(op: CompiledOperation, body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  try {
    if (op.root !== undefined) return XML_DECLARATION + writeElement(op.root, body, 'body');
    const keys = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    if (keys.length !== 1 || keys[0]!.startsWith('@') || keys[0] === '#text') {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input.body must be an object with one key, the root element (or set root in the operation)`,
      );
    }
    return XML_DECLARATION + writeContent(body as Record<string, unknown>, 'body', 0);
  } catch (error) {
    if (!(error instanceof XmlWriteError)) throw error;
    // The body comes from the step's input template, often from request data.
    throw new ChorusError(
      'CHORUS_VALIDATION_FAILED',
      `the input of ${op.extras.service}.${op.name} cannot be sent as XML: ${error.message}`,
      { extras: { ...op.extras, errors: [{ field: error.field, message: error.message }] } },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Answers

function decodeAnswer(op: CompiledOperation, answer: XmlAnswer): ConnectorResult {
  const { status, headers, body } = answer;
  const success = (status >= 200 && status < 300) || op.accept?.has(status) === true;
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
  let output: unknown;
  try {
    output = parseXml(decodeXmlBytes(body, contentType));
    if (op.shape !== undefined) output = applyShape(output, op.shape, '', op);
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    if (!success) throw statusError(op, answer, body.toString('utf8'));
    throw decodeError(op, `answered XML that cannot be read: ${error.message}`, error);
  }
  if (success) return { output, status, headers };
  throw statusError(op, answer, output);
}

function statusError(op: CompiledOperation, answer: XmlAnswer, body: unknown): ChorusError {
  const status = answer.status;
  return new ChorusError(
    'CHORUS_UPSTREAM_STATUS',
    `service "${op.extras.service}" operation "${op.name}" answered ${status}`,
    {
      retryable: status === 502 || status === 503 || status === 504,
      extras: { ...op.extras, upstreamStatus: status },
      data: { status, body, headers: answer.headers },
    },
  );
}

function decodeError(op: CompiledOperation, reason: string, cause?: unknown): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_DECODE',
    `service "${op.extras.service}" operation "${op.name}" ${reason}`,
    {
      cause,
      extras: op.extras,
    },
  );
}
