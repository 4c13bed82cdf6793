/**
 * The errors of one backend call, shared by every connector: each names the service and the
 * operation, and says whether trying again may help.
 */
import { ChorusError, type ErrorCode } from './catalogue.ts';

/** The public fields every error of one operation carries. */
// A type alias, not an interface, so it is assignable to ProblemExtras' index signature.
export type OperationExtras = { readonly service: string; readonly operation: string };

/** A gateway-side mistake (a flow passing the wrong input); never the backend's fault. */
export function internal(extras: OperationExtras, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras });
}

/** The answer was over its size limit; `setting` names the config key of the limit. */
export function tooLarge(extras: OperationExtras, limit: number, setting = 'maxResponseBytes'): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_TOO_LARGE',
    `service "${extras.service}" operation "${extras.operation}" answered more than ${limit} bytes (${setting})`,
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

/** A call of an operation the service does not have: the engine checks names at load, so this is a gateway bug. */
export function unknownOperation(service: string, operation: string): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', `service "${service}" has no operation "${operation}"`, {
    extras: { service, operation },
  });
}

/** The backend answered an error status; flows read status, body and headers in onError fallbacks. */
export function statusError(
  extras: OperationExtras,
  status: number,
  headers: Readonly<Record<string, unknown>>,
  body: unknown,
): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_STATUS',
    `service "${extras.service}" operation "${extras.operation}" answered ${status}`,
    {
      retryable: status === 502 || status === 503 || status === 504,
      extras: { ...extras, upstreamStatus: status },
      data: { status, body, headers },
    },
  );
}

/** The answer could not be read as what it claims to be; `what` says how, e.g. "answered malformed JSON". */
export function decodeError(extras: OperationExtras, what: string, cause?: unknown): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_DECODE',
    `service "${extras.service}" operation "${extras.operation}" ${what}`,
    { cause, extras },
  );
}
