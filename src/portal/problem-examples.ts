/**
 * Concrete problem+json examples for the OpenAPI document: one per catalogue code an endpoint can
 * answer with, built by the same `toProblem` the gateway answers with (so an example has exactly
 * the fields a real answer has), worded for that endpoint (its first backend call, its first input
 * field). Portals show them as they are, instead of examples generated from the Problem schema
 * ("path/index.html", "additionalProp1").
 */
import { ChorusError, type ErrorCode, type ProblemDocument, toProblem } from '../errors/catalogue.ts';

/** What an example may name: a step and its call, an input field. */
export interface ProblemSubject {
  step: string;
  service: string;
  operation: string;
  /** An input field, e.g. "params.id" or "body.sku". */
  field: string;
}

/** The request id every example carries (the x-request-id of the answer). */
export const EXAMPLE_REQUEST_ID = '01JF8Z6Q3M4V7W2X9Y5R0T1ABC';

/** A problem document as the gateway would answer it for `code`. */
export function problemExample(code: ErrorCode, subject: ProblemSubject): ProblemDocument {
  const { detail, extras } = exampleOf(code, subject);
  return toProblem(new ChorusError(code, detail, { extras }), EXAMPLE_REQUEST_ID);
}

function exampleOf(
  code: ErrorCode,
  { step, service, operation, field }: ProblemSubject,
): { detail: string; extras: Record<string, unknown> } {
  const call = { step, service, operation };
  const named = `service "${service}" operation "${operation}"`;
  switch (code) {
    case 'CHORUS_BAD_JSON':
      return { detail: 'the body is not JSON: Unexpected end of JSON input', extras: {} };
    case 'CHORUS_VALIDATION_FAILED':
      return {
        detail: `${field} is required`,
        extras: { errors: [{ field, message: 'is required' }] },
      };
    case 'CHORUS_BODY_TOO_LARGE':
      return { detail: 'the body is larger than the limit of 1048576 bytes', extras: {} };
    case 'CHORUS_UNSUPPORTED_MEDIA_TYPE':
      return { detail: 'expected content-type application/json, got "text/plain"', extras: {} };
    case 'CHORUS_UNAUTHORIZED':
      return { detail: 'authentication is missing or invalid', extras: {} };
    case 'CHORUS_FORBIDDEN':
      return { detail: 'the credential lacks a required scope or claim', extras: {} };
    case 'CHORUS_IP_DENIED':
      return { detail: 'the client address may not call this endpoint', extras: {} };
    case 'CHORUS_RATE_LIMITED':
      return { detail: 'rate limit of 100 requests per 1 minute reached', extras: {} };
    case 'CHORUS_QUOTA_EXCEEDED':
      return { detail: 'quota of 10000 requests per 1 day reached', extras: {} };
    case 'CHORUS_UPSTREAM_STATUS':
      return { detail: `${named} answered 500`, extras: { ...call, upstreamStatus: 500 } };
    case 'CHORUS_UPSTREAM_TRANSPORT':
      return { detail: `${named}: connection refused (ECONNREFUSED)`, extras: call };
    case 'CHORUS_UPSTREAM_PROTOCOL':
      return { detail: `${named} answered a fault: Server.Unavailable`, extras: call };
    case 'CHORUS_UPSTREAM_DECODE':
      return { detail: `${named} answered a body that is not valid JSON`, extras: call };
    case 'CHORUS_UPSTREAM_TOO_LARGE':
      return { detail: `${named} answered more than 10485760 bytes (maxResponseBytes)`, extras: call };
    case 'CHORUS_UPSTREAM_AUTH':
      return { detail: `${named}: the backend credential could not be obtained`, extras: call };
    case 'CHORUS_UPSTREAM_UNAVAILABLE':
      return { detail: `${named} is not available: no responder`, extras: call };
    case 'CHORUS_CIRCUIT_OPEN':
      return {
        detail: `service "${service}" is not called for now: its circuit breaker is open after repeated failures`,
        extras: call,
      };
    case 'CHORUS_BULKHEAD_FULL':
      return {
        detail: `service "${service}" has 10 calls in flight and 0 waiting; the call was refused`,
        extras: call,
      };
    case 'CHORUS_UPSTREAM_TIMEOUT':
      return { detail: `${named} did not answer within 5000 ms`, extras: call };
    case 'CHORUS_DEADLINE_EXCEEDED':
      return { detail: 'the request took longer than its 30000 ms deadline', extras: { timeoutMs: 30000 } };
    case 'CHORUS_EXPRESSION_FAILED':
      return { detail: `step "${step}": No such key: name`, extras: { step } };
    case 'CHORUS_CODE_STEP_FAILED':
      return { detail: `step "${step}" failed: TypeError`, extras: { step } };
    case 'CHORUS_SHUTTING_DOWN':
      return { detail: 'the gateway is shutting down', extras: {} };
    case 'CHORUS_POLICY_STORE_UNAVAILABLE':
      return { detail: 'the policy store (Redis) does not answer', extras: {} };
    case 'CHORUS_INTERNAL':
      return { detail: 'Internal gateway error', extras: {} };
    default:
      return { detail: `an example of ${code}`, extras: {} };
  }
}
