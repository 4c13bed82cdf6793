/**
 * Reading the answer of an `xml` call: XML bodies read to JSON with the operation's shape, empty
 * answers as null, error statuses as status errors carrying what could be read of the body.
 */
import type { ConnectorResult } from '../../contracts/connector.ts';
import { decodeError, statusError } from '../../errors/call-errors.ts';
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
    throw statusError(op.extras, status, headers, '');
  }
  const contentType = contentTypeOf(headers);
  const mediaType = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (!isXmlMediaType(mediaType)) {
    if (!success) throw statusError(op.extras, status, headers, body.toString('utf8'));
    throw decodeError(
      op.extras,
      `answered ${mediaType === '' ? 'without a content type' : mediaType}, not XML`,
    );
  }
  let output: unknown;
  try {
    output = parseXml(decodeXmlBytes(body, contentType));
    if (op.shape !== undefined) output = applyShape(output, op.shape, '', op);
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    if (!success) throw statusError(op.extras, status, headers, body.toString('utf8'));
    throw decodeError(op.extras, `answered XML that cannot be read: ${error.message}`, error);
  }
  if (success) return { output, status, headers };
  throw statusError(op.extras, status, headers, output);
}
