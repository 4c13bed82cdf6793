/**
 * Declared answers in the bytes each protocol carries: an HTTP answer (JSON, XML, a SOAP
 * envelope or Fault, a GraphQL result), a NATS reply, a gRPC message. The connectors then read
 * these bytes with their own decoders, as they read a real backend's.
 */
import { ATTRIBUTE_PREFIX } from '../../xml/parse.ts';
import { writeContent, XML_DECLARATION } from '../../xml/write.ts';
import type { DeclaredAnswer } from './test-file.ts';

/** An HTTP answer on the wire. */
export interface WireAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** The HTTP answer of a service of `kind` to a call of `operation`. */
export function httpWireAnswer(kind: string, operation: string, answer: DeclaredAnswer): WireAnswer {
  const headers: Record<string, string> = { ...lowerCased(answer.headers ?? {}) };
  let status = answer.status ?? 200;
  let body: Buffer;
  if (kind === 'soap' && (answer.output !== undefined || answer.fault !== undefined)) {
    headers['content-type'] ??= 'text/xml; charset=utf-8';
    if (answer.fault !== undefined) status = answer.status ?? 500;
    body = Buffer.from(soapEnvelope(operation, answer));
  } else if (kind === 'graphql' && (answer.data !== undefined || answer.errors !== undefined)) {
    headers['content-type'] ??= 'application/json';
    const result: Record<string, unknown> = {};
    if (answer.data !== undefined) result.data = answer.data;
    if (answer.errors !== undefined) result.errors = answer.errors;
    body = Buffer.from(JSON.stringify(result));
  } else if (answer.body === undefined) {
    body = Buffer.alloc(0);
  } else if (typeof answer.body === 'string') {
    headers['content-type'] ??= kind === 'xml' ? 'application/xml' : 'text/plain';
    body = Buffer.from(answer.body);
  } else if (kind === 'xml' && isRecord(answer.body)) {
    headers['content-type'] ??= 'application/xml';
    body = Buffer.from(XML_DECLARATION + writeContent(answer.body, 'body', 0));
  } else {
    headers['content-type'] ??= 'application/json';
    body = Buffer.from(JSON.stringify(answer.body));
  }
  return { status, headers, body };
}

/** A SOAP 1.1 envelope whose Body holds the output (in an `<Operation>Response` element) or a Fault. */
function soapEnvelope(operation: string, answer: DeclaredAnswer): string {
  let content: string;
  if (answer.fault !== undefined) {
    const { code, string, detail } = answer.fault;
    const detailXml = isRecord(detail) ? `<detail>${writeContent(detail, 'fault.detail', 0)}</detail>` : '';
    content = `<soap:Fault>${writeContent({ faultcode: code, faultstring: string }, 'fault', 0)}${detailXml}</soap:Fault>`;
  } else {
    const output = answer.output;
    const inner = isRecord(output) ? writeContent(output, 'output', 1) : '';
    const attributes = isRecord(output)
      ? Object.entries(output)
          .filter(([key]) => key.startsWith(ATTRIBUTE_PREFIX))
          .map(([key, value]) => ` ${key.slice(1)}="${String(value)}"`)
          .join('')
      : '';
    content = output === null ? '' : `<${operation}Response${attributes}>${inner}</${operation}Response>`;
  }
  return `${XML_DECLARATION}<soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body>${content}</soap:Body></soap:Envelope>`;
}

/** A NATS reply's payload: a string as it is, anything else as JSON. */
export function replyBytes(reply: unknown): Uint8Array {
  if (reply === undefined) return new Uint8Array(0);
  return Buffer.from(typeof reply === 'string' ? reply : JSON.stringify(reply));
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
