/**
 * What `chorus record` writes for one backend call: the answer a connector read (or the error
 * it raised) put back in the service's own terms, so the test file replays it through the same
 * connector; secrets in recorded headers are redacted.
 */
import { ChorusError } from '../../errors/catalogue.ts';
import type { DeclaredAnswer } from './test-file.ts';

/** Header names whose values are secrets: never written to a test file. */
const SECRET_HEADER = /authorization|cookie|token|secret|password|api[-_]?key|credential|signature/i;

/** A matcher that takes any value, written in place of a secret. */
export const REDACTED = Object.freeze({ $any: true });

/** The call's input as a matcher, its secret headers replaced by { $any: true }. */
export function recordedInput(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const record = { ...(input as Record<string, unknown>) };
  const headers = record.headers;
  if (typeof headers === 'object' && headers !== null && !Array.isArray(headers)) {
    record.headers = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, SECRET_HEADER.test(name) ? REDACTED : value]),
    );
  }
  return record;
}

/** Whether a request header's value is a secret. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** A successful answer, in the terms of the service's kind. */
export function answerOf(
  kind: string,
  output: unknown,
  status: number | undefined,
): Omit<DeclaredAnswer, 'input'> {
  switch (kind) {
    case 'soap':
      return { output };
    case 'graphql': {
      const partial = output as { data?: unknown; errors?: unknown[] } | null;
      if (partial !== null && typeof partial === 'object' && 'data' in partial && 'errors' in partial) {
        return { data: partial.data, ...(partial.errors?.length ? { errors: partial.errors } : {}) };
      }
      return { data: output };
    }
    case 'grpc':
      return { message: output };
    case 'nats':
    case 'amqp':
      return { reply: output };
    default:
      return status === undefined || status === 200 ? { body: output } : { status, body: output };
  }
}

/** A failed call, in the terms of the service's kind: a status with its body, a fault, a gRPC status, or no answer. */
export function failureOf(kind: string, error: unknown): Omit<DeclaredAnswer, 'input'> {
  if (!(error instanceof ChorusError)) return { failure: 'transport' };
  const extras = error.extras as Record<string, unknown>;
  const data = error.data as { status?: number; body?: unknown } | undefined;
  if (error.code === 'CHORUS_UPSTREAM_TIMEOUT') return { failure: 'timeout' };
  if (kind === 'soap' && typeof extras.faultcode === 'string') {
    return { fault: { code: extras.faultcode, string: String(extras.faultstring ?? '') } };
  }
  if (kind === 'grpc' && typeof extras.grpcCode === 'number') {
    return { grpcStatus: { code: extras.grpcCode, message: String(extras.grpcMessage ?? '') } };
  }
  if (kind === 'graphql' && data?.body !== undefined && typeof data.body === 'object' && data.body !== null) {
    const { data: result, errors } = data.body as { data?: unknown; errors?: unknown[] };
    if (errors !== undefined) return { ...(result === undefined ? {} : { data: result }), errors };
  }
  if (error.code === 'CHORUS_UPSTREAM_STATUS' && data?.status !== undefined) {
    return {
      status: data.status,
      ...(data.body === undefined || data.body === '' ? {} : { body: data.body }),
    };
  }
  return { failure: 'transport' };
}
