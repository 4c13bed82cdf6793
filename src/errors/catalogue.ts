/**
 * The one catalogue of errors Chorus answers with. Every code here is listed in docs/errors.md;
 * `catalogue.test.ts` keeps the two in sync. Codes are stable: clients may branch on them.
 */
export const ERROR_CATALOGUE = {
  CHORUS_ROUTE_NOT_FOUND: {
    status: 404,
    title: 'No such endpoint',
    hint: 'Check the method and path against /openapi.json.',
  },
  CHORUS_METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed on this path',
    hint: 'The Allow header lists the methods this path accepts.',
  },
  CHORUS_BAD_JSON: {
    status: 400,
    title: 'The request body is not valid JSON',
    hint: 'Send a well-formed JSON document.',
  },
  CHORUS_BODY_TOO_LARGE: {
    status: 413,
    title: 'The request body is too large',
    hint: 'Send a smaller body; the limit is in the detail.',
  },
  CHORUS_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported content type',
    hint: 'Send the body as application/json (or application/x-www-form-urlencoded where the endpoint takes it), in gzip, deflate, br or no Content-Encoding.',
  },
  CHORUS_VALIDATION_FAILED: {
    status: 400,
    title: 'The request does not match the endpoint input',
    hint: 'The errors list names each field that is missing or wrong.',
  },
  CHORUS_UPSTREAM_STATUS: {
    status: 502,
    title: 'A backend answered with an error status',
    hint: 'The service and its status are in the problem; check that backend.',
  },
  CHORUS_UPSTREAM_TRANSPORT: {
    status: 502,
    title: 'A backend could not be reached',
    hint: 'The service is down or refused the connection; check its url.',
  },
  CHORUS_UPSTREAM_PROTOCOL: {
    status: 502,
    title: 'A backend answered with a protocol error',
    hint: 'A SOAP Fault, GraphQL errors or a gRPC status; the problem keeps the backend’s own code and message.',
  },
  CHORUS_UPSTREAM_UNAVAILABLE: {
    status: 503,
    title: 'A backend is not available',
    hint: 'No responder, a broker that is down, or an open circuit breaker; retry later.',
  },
  CHORUS_UPSTREAM_DECODE: {
    status: 502,
    title: 'A backend answered with a body Chorus could not decode',
    hint: 'The backend sent malformed data or a content type the operation does not expect.',
  },
  CHORUS_UPSTREAM_TOO_LARGE: {
    status: 502,
    title: 'A backend answered with a body over the size limit',
    hint: "Raise the service's maxResponseBytes if such answers are expected.",
  },
  CHORUS_UPSTREAM_TIMEOUT: {
    status: 504,
    title: 'A backend did not answer in time',
    hint: "The step's or service's timeout passed; raise it or make the backend faster.",
  },
  CHORUS_DEADLINE_EXCEEDED: {
    status: 504,
    title: 'The request deadline passed',
    hint: "The endpoint's timeout covers every backend call; raise it or make the flow shorter.",
  },
  CHORUS_UNAUTHORIZED: {
    status: 401,
    title: 'Authentication is missing or invalid',
    hint: 'Send a valid API key or bearer token; the problem never says which part was wrong.',
  },
  CHORUS_FORBIDDEN: {
    status: 403,
    title: 'The caller may not use this endpoint',
    hint: 'The consumer lacks a scope or claim the endpoint requires; the detail names it.',
  },
  CHORUS_IP_DENIED: {
    status: 403,
    title: 'The client address is not allowed',
    hint: 'The endpoint"s IP allow or deny list refused the address.',
  },
  CHORUS_CORS_REJECTED: {
    status: 403,
    title: 'The cross-origin request is not allowed',
    hint: 'The Origin or the requested method or headers are not in the endpoint"s CORS policy.',
  },
  CHORUS_RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    hint: 'Wait for the seconds in Retry-After; the RateLimit headers say the policy.',
  },
  CHORUS_QUOTA_EXCEEDED: {
    status: 429,
    title: 'The quota of this period is used up',
    hint: 'The consumer"s plan quota is spent until the period in Retry-After ends.',
  },
  CHORUS_POLICY_STORE_UNAVAILABLE: {
    status: 503,
    title: 'A policy store is not reachable',
    hint: 'A fail-closed rate limit or cache could not reach its store (Redis); retry later.',
  },
  CHORUS_HEADERS_TOO_LARGE: {
    status: 431,
    title: 'The request headers are too large',
    hint: 'Send fewer or smaller headers; the limit is in the detail.',
  },
  CHORUS_BAD_REQUEST_SYNTAX: {
    status: 400,
    title: 'The request is not valid HTTP',
    hint: 'The HTTP parser refused the request (e.g. Content-Length with Transfer-Encoding, a control character in a header, a non-ASCII path); the detail says what.',
  },
  CHORUS_REQUEST_TIMEOUT: {
    status: 408,
    title: 'The request head did not arrive in time',
    hint: 'Send the request line and headers within server.headersTimeout.',
  },
  CHORUS_EXPECTATION_FAILED: {
    status: 417,
    title: 'The Expect header cannot be met',
    hint: 'Only Expect: 100-continue is understood; send the request without another Expect.',
  },
  CHORUS_METHOD_NOT_IMPLEMENTED: {
    status: 501,
    title: 'The request method is not supported',
    hint: 'Chorus answers GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS; CONNECT and unknown methods are refused.',
  },
  CHORUS_CIRCUIT_OPEN: {
    status: 503,
    title: 'A backend"s circuit breaker is open',
    hint: 'The service failed too often and calls to it are paused; retry after Retry-After.',
  },
  CHORUS_BULKHEAD_FULL: {
    status: 503,
    title: 'A backend has too many calls in flight',
    hint: 'The service"s concurrency limit and queue are full; retry later.',
  },
  CHORUS_UPSTREAM_AUTH: {
    status: 502,
    title: 'Chorus could not get credentials for a backend',
    hint: 'The OAuth2 token endpoint failed or refused the client; check the service"s auth settings.',
  },
  CHORUS_EXPRESSION_FAILED: {
    status: 500,
    title: 'An expression failed while answering the request',
    hint: 'The detail names the step and the expression; guard missing fields with has() or .?field.',
  },
  CHORUS_CODE_STEP_FAILED: {
    status: 500,
    title: 'A code step threw an error',
    hint: 'The detail names the step; see the gateway log for the stack.',
  },
  CHORUS_LOOP_LIMIT: {
    status: 500,
    title: 'A repeating step reached its bound before the backend said it was done',
    hint: 'The step names maxRounds or maxItems; raise the bound, or set repeat.onLimit: partial to answer with what was read.',
  },
  CHORUS_BATCH_KEY_MISSING: {
    status: 404,
    title: 'A batch answer had no result for an item',
    hint: "The backend's answer lacked this item's key; branch on it with onError (skip or fallback), which applies per item.",
  },
  CHORUS_SHUTTING_DOWN: {
    status: 503,
    title: 'The gateway is shutting down',
    hint: 'Retry against another replica.',
  },
  CHORUS_RELOAD_REJECTED: {
    status: 422,
    title: 'The config on disk has problems; the previous one keeps serving',
    hint: 'The problems list each one as file:line:col; fix them and reload again (chorus validate shows the same).',
  },
  CHORUS_INTERNAL: {
    status: 500,
    title: 'Internal gateway error',
    hint: 'See the gateway log for this request id.',
  },
  CHORUS_BAD_CONTENT_ENCODING: {
    status: 400,
    title: 'The request body does not decode',
    hint: 'The body is not valid in its Content-Encoding (gzip, deflate or br); send it encoded as declared, or without Content-Encoding.',
  },
} as const satisfies Record<string, { status: number; title: string; hint: string }>;

/** A stable error code from the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Extra, public fields that go into the problem document (never secrets, never raw backend bodies). */
export type ProblemExtras = Record<string, unknown>;

/** Options for a ChorusError beyond its code and message. */
export interface ChorusErrorOptions {
  cause?: unknown;
  /** Whether trying the same call again may succeed (used by upstream policies). */
  retryable?: boolean;
  /** Fields copied into the problem+json document. */
  extras?: ProblemExtras;
  /** Data kept for flows (onError fallback expressions) but never sent to clients, e.g. a backend body. */
  data?: unknown;
  /** Response headers sent with the problem (Retry-After, WWW-Authenticate, RateLimit, CORS). */
  headers?: Record<string, string>;
}

/** The one error type Chorus raises; everything a user sees is built from it. */
export class ChorusError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly extras: ProblemExtras;
  readonly data: unknown;
  /** Response headers sent with the problem; policies that wrap a failing handler may add theirs (CORS). */
  headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: ChorusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChorusError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.retryable = options.retryable ?? false;
    this.extras = options.extras ?? {};
    this.data = options.data;
    this.headers = options.headers;
  }
}

/** An RFC 9457 problem document as Chorus sends it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  hint: string;
  instance?: string;
  requestId?: string;
  [extra: string]: unknown;
}

const TYPE_BASE = 'https://chorus.dev/errors#';

/** Builds the problem+json document for an error; anything that is not a ChorusError becomes CHORUS_INTERNAL. */
export function toProblem(error: unknown, requestId?: string): ProblemDocument {
  const chorusError =
    error instanceof ChorusError ? error : new ChorusError('CHORUS_INTERNAL', 'Internal gateway error');
  const entry = ERROR_CATALOGUE[chorusError.code];
  const problem: ProblemDocument = {
    type: TYPE_BASE + chorusError.code.toLowerCase(),
    title: entry.title,
    status: chorusError.status,
    detail: chorusError.message,
    code: chorusError.code,
    hint: entry.hint,
  };
  // Extras follow the standard fields and never replace them.
  for (const [key, value] of Object.entries(chorusError.extras)) if (!(key in problem)) problem[key] = value;
  if (requestId !== undefined) problem.requestId = requestId;
  return problem;
}

/** Wraps anything thrown into a ChorusError with the given code, keeping ChorusErrors as they are. */
export function asChorusError(error: unknown, code: ErrorCode, message: string): ChorusError {
  if (error instanceof ChorusError) return error;
  return new ChorusError(code, message, { cause: error });
}
