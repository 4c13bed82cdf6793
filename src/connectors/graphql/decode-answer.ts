/**
 * Reading the answer of a `graphql` call: the JSON answer read like the http connector's, then
 * read as a GraphQL response: `errors` fail the step (or come back beside the data with
 * `errors: partial`), and error statuses keep the GraphQL messages of their body.
 */
import type { CallContext, ConnectorCall, ConnectorResult } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import type { AnswerHead, HttpResult } from '../../transports/http/exchange-handler.ts';
import { readHttpAnswer } from '../http/decode-answer.ts';
import type { CompiledOperation } from './operations.ts';

/** At most this many backend error messages go into a problem document, each cut to this length. */
const MAX_REPORTED_ERRORS = 10;
const MAX_MESSAGE_LENGTH = 300;

/** The transport's decoder for graphql operations (an AnswerDecoder). */
export function decodeGraphqlAnswer(
  op: CompiledOperation,
  head: AnswerHead,
  raw: Buffer,
  _call: ConnectorCall,
  ctx: CallContext,
): ConnectorResult {
  let result: HttpResult;
  try {
    // GraphQL answers are always decoded: their errors must be read.
    result = readHttpAnswer(op, head, raw, false);
  } catch (error) {
    throw withGraphqlErrors(op, error);
  }
  return readGraphqlResponse(op, result, ctx);
}

function readGraphqlResponse(op: CompiledOperation, result: HttpResult, ctx: CallContext): ConnectorResult {
  const answer = result.output;
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered ${
        typeof answer === 'string' ? 'a body that is not JSON' : 'JSON that is not a GraphQL response'
      }`,
      { extras: op.extras, data: { status: result.status, body: answer, headers: result.headers } },
    );
  }
  const record = answer as { data?: unknown; errors?: unknown };
  const errors = record.errors;
  if ((errors !== undefined && !Array.isArray(errors)) || (errors === undefined && !('data' in record))) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered JSON that is not a GraphQL response`,
      { extras: op.extras, data: { status: result.status, body: answer, headers: result.headers } },
    );
  }
  const data = record.data ?? null;
  if (errors !== undefined && errors.length > 0) {
    if (!op.partial || data === null) throw protocolError(op, errors, data, result);
    ctx.logger.warn(
      { service: op.extras.service, operation: op.name, graphqlErrors: errorMessages(errors) },
      'graphql connector: answer with data and errors (errors: partial)',
    );
    return result.withOutput({ data, errors });
  }
  const output = op.partial ? { data, errors: [] } : data;
  return result.withOutput(output);
}

function protocolError(
  op: CompiledOperation,
  errors: unknown[],
  data: unknown,
  result: ConnectorResult,
): ChorusError {
  const messages = errorMessages(errors);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ChorusError(
    'CHORUS_UPSTREAM_PROTOCOL',
    `service "${op.extras.service}" operation "${op.name}" answered GraphQL errors: ${messages[0]}${more}`,
    {
      extras: { ...op.extras, graphqlErrors: messages },
      data: { status: result.status, body: { data, errors }, headers: result.headers },
    },
  );
}

/**
 * An error status whose body is a GraphQL response (GraphQL over HTTP answers 4xx for documents
 * the server rejects) keeps its error messages in the problem, so the cause is visible.
 */
function withGraphqlErrors(op: CompiledOperation, error: unknown): unknown {
  if (!(error instanceof ChorusError) || error.code !== 'CHORUS_UPSTREAM_STATUS') return error;
  const body = (error.data as { body?: unknown } | undefined)?.body;
  const errors =
    typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  const messages = errorMessages(errors);
  if (messages.length === 0) return error;
  return new ChorusError(error.code, `${error.message}: ${messages[0]}`, {
    cause: error.cause,
    retryable: error.retryable,
    extras: { ...error.extras, ...op.extras, graphqlErrors: messages },
    data: error.data,
  });
}

/** The messages of a GraphQL `errors` list, at most MAX_REPORTED_ERRORS, each cut short. */
export function errorMessages(errors: unknown): string[] {
  if (!Array.isArray(errors)) return [];
  return errors.slice(0, MAX_REPORTED_ERRORS).map((entry: unknown) => {
    const message =
      typeof entry === 'object' && entry !== null ? (entry as { message?: unknown }).message : undefined;
    const text = typeof message === 'string' ? message : '(an error without a message)';
    return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
  });
}
