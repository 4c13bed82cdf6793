/**
 * One XML request/answer over HTTP, shared by the `soap` and `xml` connectors: an undici pool per
 * service (pool.request, not fetch: about three times faster, and a plain stream whose size can
 * be capped while reading), the call's deadline and cancellation, the response size cap, and the
 * mapping of transport failures to catalogue errors. Decoding the answer is the connector's part.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { CANCELLED, InflightCall, TIMED_OUT } from '../connectors/inflight-call.ts';
import type { ConnectorCall, ConnectorIssue } from '../connectors/types.ts';
import { ChorusError, type ErrorCode } from '../errors/catalogue.ts';

/** How long close() lets in-flight calls finish before it destroys the pool's sockets. */
const CLOSE_GRACE_MS = 2_000;
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
/** Errors that say the request itself cannot be sent, so sending it again cannot help. */
const NOT_RETRYABLE_TRANSPORT: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** The public fields every error of one operation carries. */
// A type alias, not an interface, so it is assignable to ProblemExtras' index signature.
export type OperationExtras = { readonly service: string; readonly operation: string };

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
    this.#closing ??= closePool(this.#pool, this.#options.service, this.#options.logger);
    return this.#closing;
  }
}

function ignoreError(): void {}

/**
 * Collects a response body, counting bytes as they come; resolves null (and destroys the body,
 * which closes the connection) as soon as the count passes the limit.
 */
function readCapped(stream: Readable, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    // Stays attached after a resolve so a late destroy error is never unhandled.
    stream.on('error', reject);
  });
}

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

/** A gateway-side mistake (a flow passing the wrong input); never the backend's fault. */
export function internal(extras: OperationExtras, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras });
}

function tooLarge(extras: OperationExtras, limit: number): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_TOO_LARGE',
    `service "${extras.service}" operation "${extras.operation}" answered more than ${limit} bytes (maxResponseBytes)`,
    { extras },
  );
}

function timeoutError(
  extras: OperationExtras,
  limitMs: number,
  deadlineBound: boolean,
  cause: unknown,
): ChorusError {
  const code: ErrorCode = deadlineBound ? 'CHORUS_DEADLINE_EXCEEDED' : 'CHORUS_UPSTREAM_TIMEOUT';
  return new ChorusError(
    code,
    `service "${extras.service}" operation "${extras.operation}" did not answer within ${Math.max(0, limitMs)} ms`,
    { cause, retryable: !deadlineBound, extras },
  );
}

/** The caller cancelled: its reason is rethrown as it is, since the engine knows why it cancelled. */
function cancellation(extras: OperationExtras, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return internal(
    extras,
    `service "${extras.service}" operation "${extras.operation}" was cancelled`,
    reason,
  );
}

function transportError(extras: OperationExtras, error: unknown): ChorusError {
  const code = errorCode(error);
  const local = NOT_RETRYABLE_TRANSPORT.has(code);
  // undici's messages for requests it refuses name the header or option at fault and no address;
  // socket errors only get their code, so backend addresses stay out of client-facing details.
  const detail =
    (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') && error instanceof Error
      ? `the request was refused before sending (${error.message})`
      : `transport failed: ${code}`;
  return new ChorusError(
    'CHORUS_UPSTREAM_TRANSPORT',
    `service "${extras.service}" operation "${extras.operation}": ${detail}`,
    { cause: error, retryable: !local, extras },
  );
}

function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Connecting to every address of a host (happy eyeballs) fails with an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0]);
  return error instanceof Error ? error.name : 'unknown error';
}

async function closePool(pool: Pool, service: string, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, CLOSE_GRACE_MS, 'timeout');
  });
  const closed = pool.close().then(
    () => 'closed' as const,
    () => 'closed' as const,
  );
  const outcome = await Promise.race([closed, grace]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    logger.warn(
      { service },
      'xml connector: calls still running after the close grace; destroying its connections',
    );
    await pool.destroy();
  }
}
