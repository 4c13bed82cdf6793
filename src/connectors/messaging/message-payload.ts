/**
 * The payload of a broker message (nats, amqp): input.body written as JSON or as text, input.headers
 * checked, and a reply read back as the step's output.
 */
import type { ConnectorResult } from '../../contracts/connector.ts';
import { decodeError, internal, type OperationExtras, tooLarge } from '../../errors/call-errors.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { scanJson } from '../../json/validate.ts';

/** What reading and writing a payload needs of an operation. */
export interface PayloadOperation {
  /** JSON payloads, or text sent and read as it is. */
  readonly json: boolean;
  readonly extras: OperationExtras;
}

/**
 * input.body as the message text: JSON text for json operations, the string itself for text ones
 * (`textMode` names that setting in messages, e.g. 'payload: raw'); undefined for no payload.
 */
export function payloadText(op: PayloadOperation, body: unknown, textMode: string): string | undefined {
  if (body === undefined) return undefined;
  const { extras } = op;
  if (!op.json) {
    if (typeof body === 'string') return body;
    if (body === null) return undefined;
    throw internal(
      extras,
      `operation "${extras.operation}" of service "${extras.service}": input.body must be a string (${textMode})`,
    );
  }
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw internal(
      extras,
      `operation "${extras.operation}" of service "${extras.service}": input.body cannot be serialised as JSON`,
      error,
    );
  }
}

/** input.headers as a record, or undefined when the input has none; anything else is a flow's mistake. */
export function inputHeaderRecord(
  extras: OperationExtras,
  inputHeaders: unknown,
): Record<string, unknown> | undefined {
  if (inputHeaders === undefined || inputHeaders === null) return undefined;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(
      extras,
      `operation "${extras.operation}" of service "${extras.service}": input.headers must be an object`,
    );
  }
  return inputHeaders as Record<string, unknown>;
}

/** Throws CHORUS_UPSTREAM_TOO_LARGE for a reply over maxPayloadBytes. */
export function checkReplySize(extras: OperationExtras, size: number, maxBytes: number): void {
  if (size > maxBytes) throw tooLarge(extras, maxBytes, 'maxPayloadBytes');
}

/**
 * A reply's bytes as the step's output: the text itself, or parsed JSON (null when empty). A
 * JSON reply the caller only forwards is returned undecoded as `raw`, copied first when
 * `copyForwarded` (the client may reuse the buffer it read into).
 */
export function replyOutput(
  extras: OperationExtras,
  bytes: Buffer,
  json: boolean,
  forwardOnly: boolean,
  copyForwarded: boolean,
): ConnectorResult {
  if (!json) return { output: bytes.toString('utf8') };
  if (bytes.length === 0) return { output: null };
  if (forwardOnly) {
    // Forwarded undecoded, once a validating scan has found it well-formed JSON.
    const fault = scanJson(bytes);
    if (fault !== undefined) {
      throw decodeError(extras, `answered malformed JSON (${fault.reason} at byte ${fault.offset})`);
    }
    return { output: undefined, raw: copyForwarded ? Buffer.from(bytes) : bytes };
  }
  try {
    return { output: parseUntrustedJson(bytes.toString('utf8')) };
  } catch (error) {
    throw decodeError(extras, 'answered malformed JSON', error);
  }
}
