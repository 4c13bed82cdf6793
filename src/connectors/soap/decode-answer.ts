/**
 * Reading the answer of a `soap` call: a Fault (whatever the status, since SOAP 1.1 sends Faults
 * with 500) is a protocol error; other error statuses are status errors; a success is the Body
 * content as JSON, shaped by the operation's output type.
 */
import type { ConnectorResult } from '../../contracts/connector.ts';
import { decodeError, statusError } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { type AnswerHead, HttpResult } from '../../transports/http/exchange-handler.ts';
import { decodeXmlBytes, isXmlMediaType, mediaTypeOf, parseXml, XmlDecodeError } from '../../xml/parse.ts';
import { applyShape } from '../../xml/shape.ts';
import { readBody } from './envelope.ts';
import type { CompiledOperation } from './operations.ts';

/** The transport's decoder for soap operations (an AnswerDecoder). */
export function decodeSoapAnswer(op: CompiledOperation, head: AnswerHead, body: Buffer): ConnectorResult {
  const status = head.status;
  const success = status >= 200 && status < 300;
  if (body.length === 0) {
    if (success) return new HttpResult(null, head);
    throw statusError(op.extras, status, head.headers, '');
  }
  const contentType = head.contentType;
  const mediaType = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (!isXmlMediaType(mediaType)) {
    if (!success) throw statusError(op.extras, status, head.headers, body.toString('utf8'));
    throw soapDecodeError(op, `answered ${mediaType === '' ? 'without a content type' : mediaType}, not XML`);
  }
  let document: Record<string, unknown>;
  try {
    document = parseXml(decodeXmlBytes(body, contentType));
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    if (!success) throw statusError(op.extras, status, head.headers, body.toString('utf8'));
    throw soapDecodeError(op, error.message, error);
  }
  const read = readBody(document);
  if (read.kind === 'fault') {
    const { faultcode, faultstring, fault } = read.fault;
    throw new ChorusError(
      'CHORUS_UPSTREAM_PROTOCOL',
      `service "${op.extras.service}" operation "${op.extras.operation}" answered a SOAP Fault: ${faultcode} ${faultstring}`.trimEnd(),
      // Flows read error.body in onError fallbacks: the whole Fault is there, detail included.
      {
        extras: { ...op.extras, faultcode, faultstring },
        data: { status, body: { fault }, headers: head.headers },
      },
    );
  }
  if (!success) throw statusError(op.extras, status, head.headers, body.toString('utf8'));
  if (read.kind === 'not-soap') throw soapDecodeError(op, read.reason);
  const output = op.wsdl.output;
  if (read.value === null || output === undefined) return new HttpResult(read.value, head);
  try {
    return new HttpResult(applyShape(read.value, output, read.name ?? output.local), head);
  } catch (error) {
    if (!(error instanceof XmlDecodeError)) throw error;
    throw soapDecodeError(op, `answered a value its WSDL does not allow: ${error.message}`, error);
  }
}

/** A SOAP answer that cannot be read; a reason from the XML parser gets the "cannot be read" wording. */
function soapDecodeError(op: CompiledOperation, reason: string, cause?: unknown): ChorusError {
  return decodeError(
    op.extras,
    reason.startsWith('answered') ? reason : `answered XML that cannot be read: ${reason}`,
    cause,
  );
}
