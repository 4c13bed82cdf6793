/**
 * The `http` connector: calls the named operations of a REST/JSON backend through one pooled
 * keep-alive undici client per origin; with several `urls`, a balancer picks the origin of each
 * call (and of each retry attempt) and ejects failing hosts. Everything the config decides (base
 * path, path templates, static headers and query, limits) is computed once in
 * createHttpConnector, so a call only fills in its own data. undici's `pool.request` is used rather than `fetch`: it is
 * about three times faster and gives a plain Node stream whose size can be capped while reading.
 */
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { parseDuration, parseSize } from '../../config/units.ts';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorInput,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import { isBackendFailure } from '../../errors/backend-failure.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { Balancer, balancerOptions, type HostStatus } from '../../transports/http/balancer.ts';
import { readClientTls, type TlsConnectOptions } from '../../transports/http/client-tls.ts';
import { startHealthChecks } from '../../transports/http/health-check.ts';
import {
  cancellation,
  internal,
  type OperationExtras,
  timeoutError,
  tooLarge,
  unknownOperation,
} from '../call-errors.ts';
import { CANCELLED, InflightCall, TIMED_OUT } from '../inflight-call.ts';
import { encodeStaticQuery, parsePathTemplate, requestTarget } from '../request-target.ts';
import { closePool, readCapped, transportError } from '../upstream-call.ts';
import type { HttpOperationConfig, HttpServiceConfig } from './schema.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
/** Methods that may be repeated safely (RFC 9110 §9.2.2), so retried by default. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/** How long close() lets in-flight calls finish before it destroys the pool's sockets. */
/** setTimeout fires at once (with a warning) above this, so longer limits are clamped to it. */
const MAX_TIMER_MS = 2_147_483_647;

/** RFC 3986 path characters (pchar and "/"), percent-escapes allowed; anything else must be encoded. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What undici accepts in a header value: tab, visible ASCII and obs-text. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Headers undici computes itself or refuses; setting them statically can only break calls. */
const MANAGED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);

type HttpMethod = HttpOperationConfig['method'];
type ResponseType = HttpOperationConfig['responseType'];
type OutgoingHeaders = Record<string, string | string[]>;

/** One operation with everything its calls need precomputed. */
interface CompiledOperation {
  readonly name: string;
  readonly method: HttpMethod;
  /** Literal path pieces around the placeholders; the service's base path is already in the first. */
  readonly literals: readonly string[];
  /** The placeholder names in path order; `literals` has one more entry. */
  readonly params: readonly string[];
  /** The encoded static query (`a=1&b=2`) or ''. */
  readonly staticQuery: string;
  /** Service and operation headers merged, names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly accept: ReadonlySet<number> | null;
  readonly responseType: ResponseType;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `http` service, or the issues that keep its config from loading. */
export async function createHttpConnector(
  config: HttpServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;

  // One or several base URLs; they must share their path, which operations' paths extend.
  const bases: URL[] = [];
  const urlList = config.urls ?? (config.url === undefined ? [] : [config.url]);
  const urlAt = (index: number): (string | number)[] => (config.urls ? ['urls', index] : ['url']);
  if (config.url !== undefined && config.urls !== undefined) {
    issues.push({ path: ['urls'], message: 'give url or urls, not both' });
  } else if (urlList.length === 0) {
    issues.push({ path: ['url'], message: 'give the service url (or urls, to balance over several)' });
  }
  for (const [index, text] of urlList.entries()) {
    try {
      const url = new URL(text);
      if (url.username !== '' || url.password !== '') {
        issues.push({
          path: urlAt(index),
          message: 'credentials in the url are not sent; put them in auth or headers',
        });
      } else if (
        bases.length > 0 &&
        url.pathname.replace(/\/+$/, '') !== bases[0]!.pathname.replace(/\/+$/, '')
      ) {
        issues.push({ path: urlAt(index), message: 'every url of a service must have the same path' });
      } else if (bases.some((other) => other.origin === url.origin)) {
        issues.push({ path: urlAt(index), message: `${url.origin} is listed twice` });
      } else bases.push(url);
    } catch {
      issues.push({ path: urlAt(index), message: `"${text}" is not a valid URL` });
    }
  }
  const base = bases[0];
  let tls: TlsConnectOptions | undefined;
  if (config.tls !== undefined) {
    const read = readClientTls(config.tls, ctx.baseDir);
    if ('issues' in read) issues.push(...read.issues);
    else tls = read.options;
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
    const template = parsePathTemplate(operation.path);
    if (typeof template === 'string') {
      issues.push({ path: ['operations', name, 'path'], message: template });
      continue;
    }
    const operationHeaders = compileHeaders(operation.headers, ['operations', name, 'headers'], issues);
    const literals = [...template.literals];
    literals[0] = basePath + literals[0];
    operations.set(name, {
      name,
      method: operation.method,
      literals,
      params: template.params,
      staticQuery: encodeStaticQuery(operation.query),
      headers: Object.freeze({ ...serviceHeaders, ...operationHeaders }),
      accept: operation.accept === undefined ? null : new Set(operation.accept),
      responseType: operation.responseType,
      extras: Object.freeze({ service, operation: name }),
    });
    const description: OperationDescription = {
      name,
      requiredParams: Object.freeze([...new Set(template.params)]),
      method: operation.method,
      path: operation.path,
      idempotent: operation.idempotent ?? IDEMPOTENT_METHODS.has(operation.method),
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

  const hosts: { origin: string; client: Pool }[] = [];
  for (const [index, url] of bases.entries()) {
    try {
      const options: Pool.Options = {
        connections: config.connections,
        keepAliveTimeout: keepAliveMs,
        // Caps the idle time a backend's Keep-Alive hint may ask for, so the config value is the ceiling.
        keepAliveMaxTimeout: keepAliveMs,
      };
      if (tls !== undefined) options.connect = { ...tls };
      hosts.push({ origin: url.origin, client: new Pool(url.origin, options) });
    } catch (error) {
      for (const host of hosts) void host.client.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      return {
        issues: [{ path: urlAt(index), message: `cannot create a client for ${url.origin}: ${reason}` }],
      };
    }
  }
  const balancer = new Balancer(hosts, balancerOptions(config.loadBalancing));
  const healthCheck = config.loadBalancing?.healthCheck;
  const stopHealthChecks =
    healthCheck === undefined ? undefined : startHealthChecks(balancer.hosts, basePath, healthCheck);

  return new HttpConnector({
    service,
    balancer,
    stopHealthChecks,
    operations,
    descriptions: Object.freeze(descriptions),
    maxResponseBytes,
    logger: ctx.logger,
  });
}

interface HttpConnectorParts {
  service: string;
  balancer: Balancer<Pool>;
  stopHealthChecks: (() => void) | undefined;
  operations: ReadonlyMap<string, CompiledOperation>;
  descriptions: readonly OperationDescription[];
  maxResponseBytes: number;
  logger: Logger;
}

/** A live `http` connector; its methods live on the prototype, so a call allocates almost no closures. */
class HttpConnector implements Connector {
  readonly kind = 'http';
  readonly service: string;
  readonly #balancer: Balancer<Pool>;
  readonly #stopHealthChecks: (() => void) | undefined;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #maxResponseBytes: number;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(parts: HttpConnectorParts) {
    this.service = parts.service;
    this.#balancer = parts.balancer;
    this.#stopHealthChecks = parts.stopHealthChecks;
    this.#operations = parts.operations;
    this.#descriptions = parts.descriptions;
    this.#maxResponseBytes = parts.maxResponseBytes;
    this.#logger = parts.logger;
  }

  async call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    const input = call.input;
    const path = requestTarget(op, input);
    const headers = buildHeaders(op, call.headers, input.headers);
    const body = buildBody(op, input, headers);

    // The engine already chose min(step timeout or service timeout, time left of the deadline).
    const limitMs = Math.min(call.timeoutMs, MAX_TIMER_MS);
    const deadlineBound = call.deadlineBound;
    const signal = call.signal;
    if (signal.aborted) throw cancellation(op.extras, signal);
    if (limitMs <= 0) throw timeoutError(op.extras, limitMs, deadlineBound, undefined);

    const inflight = new InflightCall(signal, limitMs);
    // Each call (so each retry attempt) picks its host; the outcome feeds outlier ejection.
    const host = this.#balancer.pick();
    let failure: boolean | undefined = false;
    try {
      const response = await host.client.request({
        path,
        method: op.method,
        headers,
        body,
        signal: inflight.controller.signal,
      });
      const stream = response.body;
      const declared = response.headers['content-length'];
      if (declared !== undefined && Number(declared) > this.#maxResponseBytes) {
        // Destroying the body aborts a response still arriving, so undici closes that connection
        // instead of reading a body nobody will use; the abort error it emits is expected.
        stream.on('error', ignoreError).destroy();
        throw tooLarge(op.extras, this.#maxResponseBytes);
      }
      const raw = await readCapped(stream, this.#maxResponseBytes);
      if (raw === null) throw tooLarge(op.extras, this.#maxResponseBytes);
      return decodeResponse(op, response.statusCode, response.headers, raw, call.raw === true);
    } catch (error) {
      const chorusError = asCallError(error, inflight, op.extras, limitMs, deadlineBound, signal);
      failure = isBackendFailure(chorusError, signal);
      throw chorusError;
    } finally {
      inflight.release();
      this.#balancer.release(host, failure);
    }
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  /** The hosts and their state, for status pages. */
  hosts(): HostStatus[] {
    return this.#balancer.status();
  }

  close(): Promise<void> {
    this.#stopHealthChecks?.();
    this.#closing ??= Promise.all(
      this.#balancer.hosts.map((host) => closePool(host.client, this.service, this.#logger, 'http')),
    ).then(() => undefined);
    return this.#closing;
  }
}

/** The error of a failed call, as the catalogue names it. */
function asCallError(
  error: unknown,
  inflight: InflightCall,
  extras: OperationExtras,
  limitMs: number,
  deadlineBound: boolean,
  signal: AbortSignal,
): unknown {
  if (error instanceof ChorusError) return error;
  if (inflight.state === TIMED_OUT) return timeoutError(extras, limitMs, deadlineBound, error);
  if (inflight.state === CANCELLED) return cancellation(extras, signal);
  return transportError(extras, error);
}

function ignoreError(): void {}

// ---------------------------------------------------------------------------------------------
// Load time

/** Lowercases and checks static headers, reporting names and values undici would refuse at call time. */
function compileHeaders(
  headers: Record<string, string> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
): Record<string, string> {
  const compiled: Record<string, string> = {};
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      issues.push({ path: [...path, name], message: `"${name}" is not a valid header name` });
    } else if (MANAGED_HEADERS.has(lower)) {
      issues.push({ path: [...path, name], message: `header "${lower}" is set by the connector; remove it` });
    } else if (INVALID_HEADER_VALUE.test(value)) {
      issues.push({
        path: [...path, name],
        message: `header "${lower}" has a control character (CR, LF, NUL…) in its value`,
      });
    } else {
      compiled[lower] = value;
    }
  }
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Call time

/** Static headers, then the propagated ones, then input.headers; names lowercased so later ones win. */
function buildHeaders(
  op: CompiledOperation,
  propagated: Record<string, string>,
  inputHeaders: unknown,
): OutgoingHeaders {
  const headers: OutgoingHeaders = { ...op.headers };
  for (const name of Object.keys(propagated)) {
    const lower = name.toLowerCase();
    if (lower === 'host') continue;
    headers[lower] = propagated[name]!;
  }
  if (inputHeaders === undefined || inputHeaders === null) return headers;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.headers must be an object`,
    );
  }
  const record = inputHeaders as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    // Only the config url decides where a call goes, including the virtual host.
    if (lower === 'host') {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input header "host" is not allowed; the service url decides the host`,
      );
    }
    headers[lower] = headerValue(op, lower, value);
  }
  return headers;
}

const HEADER_BREAK = /[\r\n\0]/;

function headerValue(op: CompiledOperation, name: string, value: unknown): string | string[] {
  if (typeof value === 'string') {
    // A line break would split the header (request smuggling); such values come from request data.
    if (HEADER_BREAK.test(value)) {
      throw new ChorusError(
        'CHORUS_VALIDATION_FAILED',
        `header "${name}" for ${op.extras.service}.${op.name} contains a line break`,
        {
          extras: { ...op.extras, errors: [{ field: `headers.${name}`, message: 'contains a line break' }] },
        },
      );
    }
    return value;
  }
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    return value.map(String);
  }
  throw internal(
    op.extras,
    `operation "${op.name}" of service "${op.extras.service}": input header "${name}" must be a string or a number`,
  );
}

/**
 * input.body as JSON, unless input.headers set a content type and the body is a string: then the
 * string is sent as it is (XML, form data…). A configured content type is kept for JSON bodies
 * (e.g. application/merge-patch+json); without one it is application/json.
 */
function buildBody(op: CompiledOperation, input: ConnectorInput, headers: OutgoingHeaders): string | null {
  const body = input.body;
  if (body === undefined) return null;
  // A string body with a content type (from input.headers or the config) is sent as it is.
  if (typeof body === 'string' && (hasContentType(input.headers) || headers['content-type'] !== undefined)) {
    return body;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.body cannot be serialised as JSON`,
      error,
    );
  }
  if (json === undefined) return null;
  headers['content-type'] ??= 'application/json';
  return json;
}

function hasContentType(inputHeaders: unknown): boolean {
  if (typeof inputHeaders !== 'object' || inputHeaders === null) return false;
  for (const name of Object.keys(inputHeaders)) {
    if (name.toLowerCase() === 'content-type') {
      const value = (inputHeaders as Record<string, unknown>)[name];
      return value !== undefined && value !== null;
    }
  }
  return false;
}

function decodeResponse(
  op: CompiledOperation,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  raw: Buffer,
  forwardOnly: boolean,
): ConnectorResult {
  const success = (status >= 200 && status < 300) || op.accept?.has(status) === true;
  const contentType = headers['content-type'];
  const mediaType = typeof contentType === 'string' ? mediaTypeOf(contentType) : '';
  let output: unknown;
  const json = op.responseType === 'json' || (op.responseType === 'auto' && isJsonMediaType(mediaType));
  // Forwarded as the whole response: the bytes go out as they came, never decoded or re-encoded.
  if (forwardOnly && json && success && raw.length > 0) return { output: undefined, raw, status, headers };
  if (json) {
    const text = raw.toString('utf8');
    if (text === '') {
      output = null;
    } else {
      try {
        output = parseUntrustedJson(text);
      } catch (error) {
        // An error status matters more than its malformed body: keep the text for the flow.
        if (!success) {
          output = text;
        } else {
          throw new ChorusError(
            'CHORUS_UPSTREAM_DECODE',
            `service "${op.extras.service}" operation "${op.name}" answered malformed JSON`,
            { cause: error, extras: op.extras },
          );
        }
      }
    }
  } else if (op.responseType === 'auto' && raw.length === 0 && contentType === undefined) {
    // An empty, untyped answer (204, most DELETEs) reads as "no data" rather than "".
    output = null;
  } else {
    output = raw.toString('utf8');
  }

  if (success) return { output, status, headers };
  throw new ChorusError(
    'CHORUS_UPSTREAM_STATUS',
    `service "${op.extras.service}" operation "${op.name}" answered ${status}`,
    {
      retryable: status === 502 || status === 503 || status === 504,
      extras: { ...op.extras, upstreamStatus: status },
      data: { status, body: output, headers },
    },
  );
}

function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

// ---------------------------------------------------------------------------------------------
// Errors
