/**
 * One AMQP message at call time: the routing key filled from input.params, the headers (static,
 * propagated, then input.headers), the body, and the reply read back by its content type.
 */
import type { Message } from 'amqplib';
import type { ConnectorInput, ConnectorResult } from '../../contracts/connector.ts';
import { internal } from '../../errors/call-errors.ts';
import { invalidValue } from '../messaging/broker-errors.ts';
import { checkReplySize, inputHeaderRecord, payloadText, replyOutput } from '../messaging/message-payload.ts';
import { fillTokens, type TokenRules } from '../messaging/token-template.ts';
import { type AmqpOperation, type HeaderValue, MAX_SHORT_STRING } from './amqp-operations.ts';

/**
 * A "." adds words a topic exchange matches on, "*" and "#" are binding wildcards: a value with
 * them could reach other queues.
 */
const ROUTING_KEY_WORD: TokenRules = {
  what: 'routing key',
  unsafe: /[\s\p{Cc}.*#]/u,
  unsafeProblem: 'cannot contain ".", "*", "#" or whitespace',
};

/** The routing key of one call. */
export function buildRoutingKey(op: AmqpOperation, params: ConnectorInput['params']): string {
  const key = fillTokens(op, params, ROUTING_KEY_WORD);
  if (op.params.length > 0 && Buffer.byteLength(key) > MAX_SHORT_STRING) {
    throw invalidValue(
      op.extras,
      'params',
      `the routing key would be longer than ${MAX_SHORT_STRING} bytes`,
      'the routing key',
    );
  }
  return key;
}

/** Static headers, then the propagated ones, then input.headers (later ones win). */
export function buildHeaders(
  op: AmqpOperation,
  propagated: Record<string, string>,
  inputHeaders: unknown,
): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = { ...op.headers };
  for (const name of Object.keys(propagated)) headers[name] = propagated[name]!;
  const record = inputHeaderRecord(op.extras, inputHeaders);
  if (record === undefined) return headers;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input header "${name}" must be a string, number or boolean`,
      );
    }
    if (Buffer.byteLength(name) > MAX_SHORT_STRING) {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input header name "${name.slice(0, 40)}…" is too long`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

/** input.body as the message body: JSON for application/json, the string itself for text/plain. */
export function encodeBody(op: AmqpOperation, body: unknown): Buffer {
  const text = payloadText(op, body, 'contentType: text/plain');
  return text === undefined ? Buffer.alloc(0) : Buffer.from(text, 'utf8');
}

/** The reply's body, read by its content type (or the operation's when it has none). */
export function decodeReply(
  op: AmqpOperation,
  message: Message,
  maxBytes: number,
  forwardOnly: boolean,
): ConnectorResult {
  const content = message.content;
  checkReplySize(op.extras, content.length, maxBytes);
  const contentType = message.properties.contentType as unknown;
  const json = typeof contentType === 'string' && contentType !== '' ? isJsonMediaType(contentType) : op.json;
  return replyOutput(op.extras, content, json, forwardOnly, false);
}

function isJsonMediaType(contentType: string): boolean {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}
