/**
 * Reading the answer of an `xml` call: XML bodies read to JSON with the operation's shape, empty
 * answers as null, error statuses as status errors carrying what could be read of the body.
 */
import type { ConnectorResult } from '../../contracts/connector.ts';
import { decodeError, statusError } from '../../errors/call-errors.ts';
import { type AnswerHead, HttpResult } from '../../transports/http/exchange-handler.ts';
import { decodeXmlBytes, isXmlMediaType, mediaTypeOf, parseXml, XmlDecodeError } from '../../xml/parse.ts';
import { applyShape } from '../../xml/shape.ts';
import type { CompiledOperation } from './operations.ts';

/** The transport's decoder for xml operations (an AnswerDecoder). */
export function decodeXmlAnswer(op: CompiledOperation, head: AnswerHead, body: Buffer): ConnectorResult {
  const status = head.status;
  const success = (status >= 200 && status < 300) || op.accept?.has(status) === true;
  if (body.length === 0) {
    if (success) return new HttpResult(null, head);
    throw statusError(op.extras, status, head.headers, '');
  }
  const contentType = head.contentType;
  const mediaType = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (!isXmlMediaType(mediaType)) {
    if (!success) throw statusError(op.extras, status, head.headers, body.toString('utf8'));
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
    if (!success) throw statusError(op.extras, status, head.headers, body.toString('utf8'));
    throw decodeError(op.extras, `answered XML that cannot be read: ${error.message}`, error);
  }
  if (success) return new HttpResult(output, head);
  throw statusError(op.extras, status, head.headers, output);
}
