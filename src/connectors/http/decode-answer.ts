/**
 * Reading an HTTP/JSON answer: JSON or text by the operation's responseType and the content type,
 * undecoded bytes when the caller only forwards a successful JSON answer, and error statuses as
 * status errors carrying the decoded body. The graphql connector reads its answers the same way.
 */
import type { ConnectorCall, ConnectorResult } from '../../contracts/connector.ts';
import { decodeError, type OperationExtras, statusError } from '../../errors/call-errors.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { scanJson } from '../../json/validate.ts';
import { type AnswerHead, HttpResult } from '../../transports/http/exchange-handler.ts';
import type { HttpOperationConfig } from './schema.ts';

/** What decoding needs of an operation. */
export interface DecodedOperation {
  readonly name: string;
  readonly accept: ReadonlySet<number> | null;
  readonly responseType: HttpOperationConfig['responseType'];
  readonly extras: OperationExtras;
}

/** The transport's decoder for http operations (an AnswerDecoder). */
export function decodeHttpAnswer(
  op: DecodedOperation,
  head: AnswerHead,
  raw: Buffer,
  call: ConnectorCall,
): ConnectorResult {
  // 304 to a conditional request (the HTTP cache revalidating): an answer without a body, not an error.
  if (head.status === 304 && isConditional(call.headers)) return new HttpResult(null, head);
  return readHttpAnswer(op, head, raw, call.raw === true);
}

/** Reads an answer; `forwardOnly`: a successful JSON answer may stay undecoded, as `raw`. */
export function readHttpAnswer(
  op: DecodedOperation,
  head: AnswerHead,
  raw: Buffer,
  forwardOnly: boolean,
): HttpResult {
  const status = head.status;
  const success = (status >= 200 && status < 300) || op.accept?.has(status) === true;
  const contentType = head.contentType;
  const mediaType = contentType !== undefined ? mediaTypeOf(contentType) : '';
  let output: unknown;
  const json = op.responseType === 'json' || (op.responseType === 'auto' && isJsonMediaType(mediaType));
  // Forwarded as the whole response: the bytes go out as they came, never decoded or re-encoded,
  // once a validating scan (no values built) has found them to be well-formed JSON.
  if (forwardOnly && json && success && raw.length > 0) {
    const fault = scanJson(raw);
    if (fault !== undefined) {
      throw decodeError(op.extras, `answered malformed JSON (${fault.reason} at byte ${fault.offset})`);
    }
    return new HttpResult(undefined, head, raw);
  }
  if (json) {
    output = decodeJson(op, raw, success);
  } else if (op.responseType === 'auto' && raw.length === 0 && head.headers['content-type'] === undefined) {
    // An empty, untyped answer (204, most DELETEs) reads as "no data" rather than "".
    output = null;
  } else {
    output = raw.toString('utf8');
  }

  if (success) return new HttpResult(output, head);
  throw statusError(op.extras, status, head.headers, output);
}

function isConditional(headers: Readonly<Record<string, string>>): boolean {
  return headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined;
}

function decodeJson(op: DecodedOperation, raw: Buffer, success: boolean): unknown {
  const text = raw.toString('utf8');
  if (text === '') return null;
  try {
    return parseUntrustedJson(text);
  } catch (error) {
    // An error status matters more than its malformed body: keep the text for the flow.
    if (!success) return text;
    throw decodeError(op.extras, 'answered malformed JSON', error);
  }
}

function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}
