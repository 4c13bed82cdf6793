/**
 * The errors of one HTTP exchange, each naming the service and the operation and saying whether
 * trying again may help. They are the catalogue's call errors (the same codes and texts every
 * connector uses), kept here because the transport sits below the connectors.
 */
import { ChorusError, type ErrorCode } from '../../errors/catalogue.ts';

/** The public fields every error of one operation carries. */
// A type alias, not an interface, so it is assignable to ProblemExtras' index signature.
export type OperationExtras = { readonly service: string; readonly operation: string };

/** Errors that say the request itself cannot be sent, so sending it again cannot help. */
const NOT_RETRYABLE_TRANSPORT: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** A gateway-side mistake (a flow passing the wrong input); never the backend's fault. */
export function internal(extras: OperationExtras, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras });
}

/** The answer was over maxResponseBytes. */
export function tooLarge(extras: OperationExtras, limit: number): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_TOO_LARGE',
    `service "${extras.service}" operation "${extras.operation}" answered more than ${limit} bytes (maxResponseBytes)`,
    { extras },
  );
}

/** The call's time ran out: the step's or service's timeout, or the request deadline. */
export function timeoutError(
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
export function cancellation(extras: OperationExtras, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return internal(
    extras,
    `service "${extras.service}" operation "${extras.operation}" was cancelled`,
    reason,
  );
}

/** The code of a Node or undici error (the first of an AggregateError). */
export function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Connecting to every address of a host (happy eyeballs) fails with an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0]);
  return error instanceof Error ? error.name : 'unknown error';
}

/** The backend could not be reached, or undici refused to send the request. */
export function transportError(extras: OperationExtras, error: unknown): ChorusError {
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

/** "operation "get" of service "users"", for messages. */
export function where(extras: OperationExtras): string {
  return `operation "${extras.operation}" of service "${extras.service}"`;
}
