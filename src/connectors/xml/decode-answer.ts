/**
 * Reading the answer of an `xml` call: XML bodies read to JSON with the operation's shape, empty
 * answers as null, error statuses as status errors carrying what could be read of the body.
 */
import type { ConnectorResult } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import type { AnswerHeaders } from '../../transports/http/cluster.ts';
import { contentTypeOf } from '../../transports/http/headers.ts';
import { decodeXmlBytes, isXmlMediaType, mediaTypeOf, parseXml, XmlDecodeError } from '../../xml/parse.ts';
import { applyShape } from '../../xml/shape.ts';
import type { CompiledOperation } from './operations.ts';

/** The transport's decoder for xml operations (an AnswerDecoder). */
export function decodeXmlAnswer(
  op: CompiledOperation,
  status: number,
  headers: AnswerHeaders,
  body: Buffer,
): ConnectorResult {
  const success = (status >= 200 && status < 300) || op.accept?.has(status) === true;
  if (body.length === 0) {
    if (success) return { output: null, status, headers };
    throw statusError(op, status, headers, '');
  }
  const contentType = contentTypeOf(headers);
  const mediaType = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (!isXmlMediaType(mediaType)) {
    if (!success) throw statusError(op, status, headers, body.toString('utf8'));
    throw decodeError(op, `answered ${mediaType === '' ? 'without a content type' : mediaType}, not XML`);
  }
  let output: unknown;
  try {
    output = parseXml(decodeXmlBytes(body, contentType));
    if (op.shape !== undefined) output = applyShape(output, op.shape, '', op);
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    if (!success) throw statusError(op, status, headers, body.toString('utf8'));
    throw decodeError(op, `answered XML that cannot be read: ${error.message}`, error);
  }
  if (success) return { output, status, headers };
  throw statusError(op, status, headers, output);
}

function statusError(
  op: CompiledOperation,
  status: number,
  headers: AnswerHeaders,
  body: unknown,
): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_STATUS',
    `service "${op.extras.service}" operation "${op.name}" answered ${status}`,
    {
      retryable: status === 502 || status === 503 || status === 504,
      extras: { ...op.extras, upstreamStatus: status },
      data: { status, body, headers },
    },
  );
}

function decodeError(op: CompiledOperation, reason: string, cause?: unknown): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_DECODE',
    `service "${op.extras.service}" operation "${op.name}" ${reason}`,
    {
      cause,
      extras: op.extras,
    },
  );
}
