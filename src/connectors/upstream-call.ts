/**
 * The pieces every connector that calls over an undici Pool shares: reading a capped body, the
 * errors of one upstream call (always naming the service and operation), and closing a pool with
 * a grace period.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Pool } from 'undici';
import { ChorusError, type ErrorCode } from '../errors/catalogue.ts';
import { closedWithinGrace } from './close-grace.ts';

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

/**
 * Collects a response body, counting bytes as they come; resolves null (and destroys the body,
 * which closes the connection) as soon as the count passes the limit.
 */
export function readCapped(stream: Readable, limit: number): Promise<Buffer | null> {
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

/** The code of a Node or undici error (the first of an AggregateError). */
export function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Connecting to every address of a host (happy eyeballs) fails with an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0]);
  return error instanceof Error ? error.name : 'unknown error';
}

/** Closes a pool, destroying its connections when calls are still running after a grace period. */
export async function closePool(pool: Pool, service: string, logger: Logger, kind: string): Promise<void> {
  if (!(await closedWithinGrace(pool.close()))) {
    logger.warn(
      { service },
      `${kind} connector: calls still running after the close grace; destroying its connections`,
    );
    await pool.destroy();
  }
}

/** A call of an operation the service does not have: the engine checks names at load, so this is a gateway bug. */
export function unknownOperation(service: string, operation: string): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', `service "${service}" has no operation "${operation}"`, {
    extras: { service, operation },
  });
}
