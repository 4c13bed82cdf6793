/**
 * One XML request/answer over HTTP, shared by the `soap` and `xml` connectors: an undici pool per
 * service (pool.request, not fetch: about three times faster, and a plain stream whose size can
 * be capped while reading), the call's deadline and cancellation, the response size cap, and the
 * mapping of transport failures to catalogue errors. Decoding the answer is the connector's part.
 */
import type { Logger } from 'pino';
import { Pool } from 'undici';
import {
  cancellation,
  internal,
  type OperationExtras,
  timeoutError,
  tooLarge,
} from '../connectors/call-errors.ts';
import { CANCELLED, InflightCall, TIMED_OUT } from '../connectors/inflight-call.ts';
import { closePool, readCapped, transportError } from '../connectors/upstream-call.ts';
import type { ConnectorCall, ConnectorIssue } from '../contracts/connector.ts';
import { ChorusError } from '../errors/catalogue.ts';

export { internal, type OperationExtras } from '../connectors/call-errors.ts';

/** How long close() lets in-flight calls finish before it destroys the pool's sockets. */
/** setTimeout fires at once (with a warning) above this, so longer limits are clamped to it. */
const MAX_TIMER_MS = 2_147_483_647;

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What undici accepts in a header value: tab, visible ASCII and obs-text. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const HEADER_BREAK = /[\r\n\0]/;
/** Headers undici computes itself or refuses; setting them statically can only break calls. */
const TRANSPORT_HEADERS = [
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
];

/** One request, ready to send. */
export interface XmlRequest {
  readonly method: string;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: string | null;
}

/** One answer, read whole (within the size cap). */
export interface XmlAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Pool settings of one service. */
export interface ExchangeOptions {
  readonly connections: number;
  readonly keepAliveMs: number;
  readonly maxResponseBytes: number;
  readonly logger: Logger;
  readonly service: string;
}

/** The HTTP side of an XML service: one keep-alive pool for its origin. */
export class XmlHttpClient {
  readonly #pool: Pool;
  readonly #options: ExchangeOptions;
  #closing: Promise<void> | undefined;

  constructor(origin: string, options: ExchangeOptions) {
    this.#options = options;
    this.#pool = new Pool(origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveMs,
      // Caps the idle time a backend's Keep-Alive hint may ask for, so the config value is the ceiling.
      keepAliveMaxTimeout: options.keepAliveMs,
    });
  }

  /** Sends the request and reads the whole answer, within the call's time and the size cap. */
  async exchange(request: XmlRequest, call: ConnectorCall, extras: OperationExtras): Promise<XmlAnswer> {
    // The engine already chose min(step timeout or service timeout, time left of the deadline).
    const limitMs = Math.min(call.timeoutMs, MAX_TIMER_MS);
    const signal = call.signal;
    if (signal.aborted) throw cancellation(extras, signal);
    if (limitMs <= 0) throw timeoutError(extras, limitMs, call.deadlineBound, undefined);
    const maxBytes = this.#options.maxResponseBytes;
    const inflight = new InflightCall(signal, limitMs);
    try {
      const response = await this.#pool.request({
        path: request.path,
        method: request.method as 'GET',
        headers: request.headers,
        body: request.body,
        signal: inflight.controller.signal,
      });
      const stream = response.body;
      const declared = response.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxBytes) {
        // Destroying the body aborts a response still arriving, so undici closes that connection
        // instead of reading a body nobody will use; the abort error it emits is expected.
        stream.on('error', ignoreError).destroy();
        throw tooLarge(extras, maxBytes);
      }
      const body = await readCapped(stream, maxBytes);
      if (body === null) throw tooLarge(extras, maxBytes);
      return { status: response.statusCode, headers: response.headers, body };
    } catch (error) {
      if (error instanceof ChorusError) throw error;
      if (inflight.state === TIMED_OUT) throw timeoutError(extras, limitMs, call.deadlineBound, error);
      if (inflight.state === CANCELLED) throw cancellation(extras, signal);
      throw transportError(extras, error);
    } finally {
      inflight.release();
    }
  }

  close(): Promise<void> {
    this.#closing ??= closePool(this.#pool, this.#options.service, this.#options.logger, 'xml');
    return this.#closing;
  }
}

function ignoreError(): void {}

// ---------------------------------------------------------------------------------------------
// Headers

/**
 * Lowercases and checks static headers, reporting names and values undici would refuse at call
 * time, and headers the connector sets itself (`managed`).
 */
export function compileHeaders(
  headers: Record<string, string> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
  managed: readonly string[] = [],
): Record<string, string> {
  const compiled: Record<string, string> = {};
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      issues.push({ path: [...path, name], message: `"${name}" is not a valid header name` });
    } else if (TRANSPORT_HEADERS.includes(lower) || managed.includes(lower)) {
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

/**
 * Static headers, then the propagated ones, then input.headers (names lowercased, later ones
 * winning); `managed` names (content-type, soapaction…) are the connector's and refused as input.
 */
export function buildHeaders(
  staticHeaders: Readonly<Record<string, string>>,
  propagated: Record<string, string>,
  inputHeaders: unknown,
  extras: OperationExtras,
  managed: ReadonlySet<string>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { ...staticHeaders };
  for (const name of Object.keys(propagated)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || managed.has(lower)) continue;
    headers[lower] = propagated[name]!;
  }
  if (inputHeaders === undefined || inputHeaders === null) return headers;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(extras, `${where(extras)}: input.headers must be an object`);
  }
  const record = inputHeaders as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    // Only the config decides where a call goes, including the virtual host.
    if (lower === 'host' || managed.has(lower)) {
      throw internal(
        extras,
        `${where(extras)}: input header "${lower}" is not allowed; the connector sets it`,
      );
    }
    if (!HEADER_NAME.test(name)) {
      throw internal(extras, `${where(extras)}: input header "${name}" is not a valid header name`);
    }
    headers[lower] = headerValue(extras, lower, value);
  }
  return headers;
}

function headerValue(extras: OperationExtras, name: string, value: unknown): string | string[] {
  if (typeof value === 'string') {
    // A line break would split the header (request smuggling); such values come from request data.
    if (HEADER_BREAK.test(value)) {
      throw new ChorusError(
        'CHORUS_VALIDATION_FAILED',
        `header "${name}" for ${extras.service}.${extras.operation} contains a line break`,
        { extras: { ...extras, errors: [{ field: `headers.${name}`, message: 'contains a line break' }] } },
      );
    }
    return value;
  }
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    return value.map(String);
  }
  throw internal(extras, `${where(extras)}: input header "${name}" must be a string or a number`);
}

/** The content type of an answer, if it has exactly one. */
export function contentTypeOf(headers: XmlAnswer['headers']): string | undefined {
  const value = headers['content-type'];
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Errors

function where(extras: OperationExtras): string {
  return `operation "${extras.operation}" of service "${extras.service}"`;
}
