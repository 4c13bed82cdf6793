/** The errors of a call through a message broker (nats, amqp) that the other connectors do not have. */

import type { OperationExtras } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';

/** The broker cannot take the call now (not connected, connection lost, nothing listening): try again. */
export function unavailable(extras: OperationExtras, reason: string): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_UNAVAILABLE',
    `service "${extras.service}" operation "${extras.operation}": ${reason}`,
    { retryable: true, extras },
  );
}

/**
 * A value from request data that cannot be sent (it would change where the message goes, or
 * break the message): the client's error. `what` names the value, e.g. 'subject parameter "id"'.
 */
export function invalidValue(
  extras: OperationExtras,
  field: string,
  problem: string,
  what: string,
): ChorusError {
  return new ChorusError(
    'CHORUS_VALIDATION_FAILED',
    `${what} of ${extras.service}.${extras.operation} ${problem}`,
    { extras: { ...extras, errors: [{ field, message: problem }] } },
  );
}
