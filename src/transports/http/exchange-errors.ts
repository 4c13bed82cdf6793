/**
 * The transport error of one HTTP exchange (the backend could not be reached, or undici refused
 * the request); the other call errors are errors/call-errors.ts, shared with every connector.
 */
import { errorCode, type OperationExtras } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';

/** Errors that say the request itself cannot be sent, so sending it again cannot help. */
const NOT_RETRYABLE_TRANSPORT: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

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
