/**
 * The time one backend call may take, as its connector arms a timer for it. The engine already
 * chose it (the step's or service's timeout, capped by the time left of the request deadline);
 * here it is clamped for setTimeout, and a call whose caller has gone or whose time is already
 * up fails before anything is sent.
 */
import type { ConnectorCall } from '../contracts/connector.ts';
import { cancellation, type OperationExtras, timeoutError } from '../errors/call-errors.ts';

/** setTimeout fires at once (with a warning) above this, so longer limits are clamped to it. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The call's time limit in ms, clamped for setTimeout; throws when it is cancelled or out of time. */
export function callLimit(call: ConnectorCall, extras: OperationExtras): number {
  const limitMs = Math.min(call.timeoutMs, MAX_TIMER_MS);
  const signal = call.signal;
  if (signal.aborted) throw cancellation(extras, signal);
  if (limitMs <= 0) throw timeoutError(extras, limitMs, call.deadlineBound, undefined);
  return limitMs;
}

/** How much later than the request's deadline a deadline-bound call's own timer fires. */
export const DEADLINE_BACKSTOP_MS = 50;

/**
 * The delay of a call's own timer. A call the request's deadline bounds is ended by the request
 * (its signal aborts then, and the flow names every step still pending): its timer is only a
 * backstop, a little later, for a caller with no deadline of its own. One clock decides, so the
 * answer is the same whichever call was running.
 */
export function timerDelay(call: ConnectorCall, limitMs: number): number {
  return call.deadlineBound ? Math.min(limitMs + DEADLINE_BACKSTOP_MS, MAX_TIMER_MS) : limitMs;
}
