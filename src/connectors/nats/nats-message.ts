/**
 * One NATS message at call time: the subject filled from input.params, the headers (static,
 * propagated, then input.headers), the payload, and the reply read back, including the error
 * replies of NATS micro services.
 */
import { Match, type Msg, type MsgHdrs, headers as natsHeaders } from 'nats';
import type { ConnectorInput, ConnectorResult } from '../../contracts/connector.ts';
import { internal } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { checkReplySize, inputHeaderRecord, payloadText, replyOutput } from '../messaging/message-payload.ts';
import { fillTokens, type TokenRules } from '../messaging/token-template.ts';
import { HEADER_NAME, INVALID_HEADER_VALUE, type NatsOperation } from './nats-operations.ts';

/** A header a NATS micro service sets on an error reply (the `services` framework of every client). */
const SERVICE_ERROR = 'Nats-Service-Error';
const SERVICE_ERROR_CODE = 'Nats-Service-Error-Code';

const EMPTY = new Uint8Array(0);

/**
 * A "." would add tokens, "*" or ">" make a wildcard, whitespace split the protocol line: a value
 * with them could reach another subject.
 */
const SUBJECT_TOKEN: TokenRules = {
  what: 'subject',
  unsafe: /[\s\p{Cc}.*>]/u,
  unsafeProblem: 'cannot contain ".", "*", ">" or whitespace',
};

/** The subject of one call. */
export function buildSubject(op: NatsOperation, params: ConnectorInput['params']): string {
  return fillTokens(op, params, SUBJECT_TOKEN);
}

/** Static headers, then the propagated ones, then input.headers; a later name wins whatever its case. */
export function buildHeaders(
  op: NatsOperation,
  propagated: Record<string, string>,
  inputHeaders: unknown,
): MsgHdrs | undefined {
  const hasInput = inputHeaders !== undefined && inputHeaders !== null;
  const propagatedNames = Object.keys(propagated);
  if (op.headers.length === 0 && propagatedNames.length === 0 && !hasInput) return undefined;
  const headers = natsHeaders();
  for (const [name, value] of op.headers) headers.set(name, value);
  for (const name of propagatedNames) setHeader(op, headers, name, propagated[name]!);
  const record = inputHeaderRecord(op.extras, inputHeaders);
  if (record === undefined) return headers;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') setHeader(op, headers, name, value);
    else if (typeof value === 'number' || typeof value === 'boolean')
      setHeader(op, headers, name, String(value));
    else if (
      Array.isArray(value) &&
      value.every((item) => typeof item === 'string' || typeof item === 'number')
    ) {
      headers.delete(name, Match.IgnoreCase);
      for (const item of value) appendHeader(op, headers, name, String(item));
    } else {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input header "${name}" must be a string or a number`,
      );
    }
  }
  return headers;
}

function setHeader(op: NatsOperation, headers: MsgHdrs, name: string, value: string): void {
  headers.delete(name, Match.IgnoreCase);
  appendHeader(op, headers, name, value);
}

function appendHeader(op: NatsOperation, headers: MsgHdrs, name: string, value: string): void {
  if (!HEADER_NAME.test(name)) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": "${name}" is not a valid NATS header name`,
    );
  }
  // A line break would end the header block early; such values come from request data.
  if (INVALID_HEADER_VALUE.test(value)) {
    throw new ChorusError(
      'CHORUS_VALIDATION_FAILED',
      `header "${name}" for ${op.extras.service}.${op.name} contains a line break`,
      { extras: { ...op.extras, errors: [{ field: `headers.${name}`, message: 'contains a line break' }] } },
    );
  }
  headers.append(name, value);
}

/** input.body as the message payload: JSON text in json mode, the string itself in raw mode. */
export function encodePayload(op: NatsOperation, body: unknown): string | Uint8Array {
  return payloadText(op, body, 'payload: raw') ?? EMPTY;
}

/** The reply as the step's output; a micro service's error reply fails the call. */
export function decodeReply(
  op: NatsOperation,
  msg: Msg,
  maxBytes: number,
  forwardOnly: boolean,
): ConnectorResult {
  const data = msg.data;
  checkReplySize(op.extras, data.length, maxBytes);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const replyHeaders = msg.headers;
  const errorCode = replyHeaders?.get(SERVICE_ERROR_CODE, Match.IgnoreCase) ?? '';
  if (errorCode !== '') {
    const description = replyHeaders?.get(SERVICE_ERROR, Match.IgnoreCase) ?? '';
    throw new ChorusError(
      'CHORUS_UPSTREAM_PROTOCOL',
      `service "${op.extras.service}" operation "${op.name}" answered a service error ${errorCode}${description === '' ? '' : `: ${description}`}`,
      {
        extras: { ...op.extras, serviceErrorCode: errorCode, serviceError: description },
        data: serviceErrorData(op, errorCode, bytes),
      },
    );
  }
  // Forwarded as the whole response: copied, since the client may reuse the buffer it read into.
  return replyOutput(op.extras, bytes, op.json, forwardOnly, true);
}

/**
 * What an onError fallback reads of a service error: `error.status` is its code when that is a
 * number (the micro services framework uses HTTP-like codes), `error.body` the reply, parsed when
 * it is JSON.
 */
function serviceErrorData(
  op: NatsOperation,
  code: string,
  bytes: Buffer,
): { status?: number; body: unknown } {
  const text = bytes.toString('utf8');
  let body: unknown = text === '' ? null : text;
  if (op.json && text !== '') {
    try {
      body = parseUntrustedJson(text);
    } catch {
      // not JSON: the text is kept
    }
  }
  const status = Number(code);
  return Number.isInteger(status) ? { status, body } : { body };
}
