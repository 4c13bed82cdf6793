/** What the NATS client rejects a call with, as catalogue errors. */

import { errorCode, timeoutError } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { unavailable } from '../messaging/broker-errors.ts';
import type { NatsOperation } from './nats-operations.ts';

/** Maps what the client rejected with to a catalogue error. */
export function translate(
  op: NatsOperation,
  error: unknown,
  limitMs: number,
  deadlineBound: boolean,
): unknown {
  if (error instanceof ChorusError) return error;
  const code = errorCode(error);
  switch (code) {
    case '503':
      return new ChorusError(
        'CHORUS_UPSTREAM_UNAVAILABLE',
        `service "${op.extras.service}" operation "${op.name}": no responder is listening on its subject`,
        { cause: error, retryable: true, extras: { ...op.extras, reason: 'no responders' } },
      );
    case 'TIMEOUT':
      return timeoutError(op.extras, limitMs, deadlineBound, undefined);
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DRAINING':
    case 'DISCONNECT':
      return unavailable(op.extras, 'not connected to the NATS server');
    case 'MAX_PAYLOAD_EXCEEDED':
      return new ChorusError(
        'CHORUS_UPSTREAM_TRANSPORT',
        `service "${op.extras.service}" operation "${op.name}": the message is larger than the server's max_payload`,
        { cause: error, extras: op.extras },
      );
    default:
      return new ChorusError(
        'CHORUS_UPSTREAM_TRANSPORT',
        `service "${op.extras.service}" operation "${op.name}": NATS error ${code}`,
        {
          cause: error,
          retryable: code !== 'PERMISSIONS_VIOLATION' && code !== 'AUTHORIZATION_VIOLATION',
          extras: { ...op.extras, natsCode: code },
        },
      );
  }
}
