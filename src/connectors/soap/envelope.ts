/**
 * SOAP envelopes: writing requests from JSON (elements in XSD order, each in its namespace, under
 * prefixes declared once on the Envelope), the WS-Security UsernameToken header, and reading an
 * answer's Body into its content or its Fault.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ATTRIBUTE_PREFIX, TEXT_KEY } from '../../xml/parse.ts';
import {
  escapeAttribute,
  escapeText,
  isXmlName,
  scalarText,
  writeAttributes,
  writeContent,
  XML_DECLARATION,
  XmlWriteError,
} from '../../xml/write.ts';
import type { SoapVersion, WsdlOperation } from './wsdl.ts';
import { AttributeShape, type ElementShape, type TypeShape } from './xsd-shapes.ts';

export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
const BASE64_ENCODING =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

const MAX_DEPTH = 256;

/**
 * Gives every namespace the operations' input elements use a prefix (ns1, ns2…) and stores each
 * element's and attribute's written name; returns the xmlns declarations for the Envelope.
 */
export function assignPrefixes(operations: Iterable<WsdlOperation>): string {
  const prefixes = new Map<string, string>();
  const seen = new Set<TypeShape>();
  const nameOf = (ns: string, local: string): string => {
    if (ns === '') return local;
    let prefix = prefixes.get(ns);
    if (prefix === undefined) {
      prefix = `ns${prefixes.size + 1}`;
      prefixes.set(ns, prefix);
    }
    return `${prefix}:${local}`;
  };
  const visit = (element: ElementShape): void => {
    element.tag = nameOf(element.ns, element.local);
    const type = element.type;
    if (seen.has(type)) return;
    seen.add(type);
    for (const attribute of type.attributes) attribute.tag = nameOf(attribute.ns, attribute.local);
    for (const child of type.elements) visit(child);
  };
  for (const operation of operations) visit(operation.input);
  let declarations = '';
  for (const [ns, prefix] of prefixes)
    declarations += ` xmlns:${prefix}="${escapeAttribute(ns, 'namespace')}"`;
  return declarations;
}

/** The fixed parts of every envelope of a service. */
export interface EnvelopeParts {
  /** The XML declaration and the Envelope start tag with every namespace declaration. */
  readonly open: string;
  /** The Header (WS-Security) for one call, or ''. */
  readonly header: () => string;
}

/** The credentials of a WS-Security UsernameToken. */
export interface UsernameToken {
  readonly username: string;
  readonly password: string;
  readonly passwordType: 'PasswordText' | 'PasswordDigest';
}

export function envelopeParts(
  version: SoapVersion,
  declarations: string,
  token: UsernameToken | undefined,
): EnvelopeParts {
  const envelopeNs = version === '1.1' ? SOAP11_ENVELOPE_NS : SOAP12_ENVELOPE_NS;
  const open = `${XML_DECLARATION}<soap:Envelope xmlns:soap="${envelopeNs}" xmlns:xsi="${XSI_NS}"${declarations}>`;
  if (token === undefined) return { open, header: noHeader };
  // SOAP 1.2 spells mustUnderstand as a boolean; 1.1 as 1.
  const mustUnderstand = version === '1.1' ? '1' : 'true';
  const start = `<soap:Header><wsse:Security xmlns:wsse="${WSSE_NS}" xmlns:wsu="${WSU_NS}" soap:mustUnderstand="${mustUnderstand}"><wsse:UsernameToken><wsse:Username>${escapeText(token.username, 'security.usernameToken.username')}</wsse:Username>`;
  const end = '</wsse:UsernameToken></wsse:Security></soap:Header>';
  if (token.passwordType === 'PasswordText') {
    const header = `${start}<wsse:Password Type="${TOKEN_PROFILE}#PasswordText">${escapeText(token.password, 'security.usernameToken.password')}</wsse:Password>${end}`;
    return { open, header: () => header };
  }
  const password = Buffer.from(token.password, 'utf8');
  // A digest is only as good as its nonce and time: both are new for every call.
  return {
    open,
    header: () => {
      const nonce = randomBytes(16);
      const created = new Date().toISOString();
      const digest = createHash('sha1')
        .update(nonce)
        .update(created, 'utf8')
        .update(password)
        .digest('base64');
      return `${start}<wsse:Password Type="${TOKEN_PROFILE}#PasswordDigest">${digest}</wsse:Password><wsse:Nonce EncodingType="${BASE64_ENCODING}">${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created>${end}`;
    },
  };
}

function noHeader(): string {
  return '';
}

/** The whole request envelope of one call. */
export function writeEnvelope(parts: EnvelopeParts, operation: WsdlOperation, body: unknown): string {
  const content = writeSoapElement(operation.input, body ?? {}, 'body', 0);
  return `${parts.open}${parts.header()}<soap:Body>${content}</soap:Body></soap:Envelope>`;
}

/** One element the schema declares (an array: one per item), written in its namespace. */
function writeSoapElement(element: ElementShape, value: unknown, field: string, depth: number): string {
  if (value === undefined) return '';
  const tag = element.tag;
  if (value === null) return element.nillable ? `<${tag} xsi:nil="true"/>` : '';
  if (Array.isArray(value)) {
    let xml = '';
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (Array.isArray(item)) {
        throw new XmlWriteError(`${field}[${index}]`, 'is an array inside an array, which has no XML form');
      }
      xml += writeSoapElement(element, item, `${field}[${index}]`, depth);
    }
    return xml;
  }
  const text = scalarText(value);
  if (text !== undefined) return text === '' ? `<${tag}/>` : `<${tag}>${escapeText(text, field)}</${tag}>`;
  if (typeof value !== 'object')
    throw new XmlWriteError(field, `is a ${typeof value}, which has no XML form`);
  if (depth >= MAX_DEPTH) throw new XmlWriteError(field, `nests deeper than ${MAX_DEPTH} levels`);
  const record = value as Record<string, unknown>;
  const type = element.type;
  if (type.children === undefined) {
    // Content the schema leaves open (anyType): written as it is, unqualified.
    const content = writeContent(record, field, depth + 1);
    const attributes = writeAttributes(record, field);
    return content === '' ? `<${tag}${attributes}/>` : `<${tag}${attributes}>${content}</${tag}>`;
  }
  const attributes = writeDeclaredAttributes(type, record, field);
  let content = '';
  for (const child of type.elements) {
    const childValue = record[child.local];
    if (childValue !== undefined)
      content += writeSoapElement(child, childValue, `${field}.${child.local}`, depth + 1);
  }
  // Then "#text", and keys the schema does not declare (xsd:any, or a mistake the service will
  // report), unqualified.
  content += writeContent(record, field, depth + 1, type.children);
  return content === '' ? `<${tag}${attributes}/>` : `<${tag}${attributes}>${content}</${tag}>`;
}

function writeDeclaredAttributes(type: TypeShape, record: Record<string, unknown>, field: string): string {
  let xml = '';
  for (const key of Object.keys(record)) {
    if (!key.startsWith(ATTRIBUTE_PREFIX)) continue;
    const value = record[key];
    if (value === undefined || value === null) continue;
    const at = `${field}.${key}`;
    const declared = type.children?.get(key);
    const name = declared instanceof AttributeShape ? declared.tag : key.slice(ATTRIBUTE_PREFIX.length);
    if (!isXmlName(name)) throw new XmlWriteError(at, `"${name}" is not an XML attribute name`);
    const text = scalarText(value);
    if (text === undefined) throw new XmlWriteError(at, 'must be a string, a number or a boolean');
    xml += ` ${name}="${escapeAttribute(text, at)}"`;
  }
  return xml;
}

// ---------------------------------------------------------------------------------------------
// Answers

/** A SOAP Fault, in both versions' terms. */
export interface SoapFault {
  /** 1.1 faultcode, or 1.2 Code/Value, as the service wrote it (e.g. "soap:Server"). */
  readonly faultcode: string;
  /** 1.1 faultstring, or the first 1.2 Reason/Text. */
  readonly faultstring: string;
  /** Everything the Fault holds, as JSON (detail included), for onError fallbacks. */
  readonly fault: Record<string, unknown>;
}

/** What the Body of an answer holds. */
export type SoapBody =
  | { readonly kind: 'content'; readonly name: string | undefined; readonly value: unknown }
  | { readonly kind: 'fault'; readonly fault: SoapFault }
  | { readonly kind: 'not-soap'; readonly reason: string };

/** Finds the Body's first element, or its Fault, in a parsed answer. */
export function readBody(document: Record<string, unknown>): SoapBody {
  const envelope = document.Envelope;
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return { kind: 'not-soap', reason: 'the answer is not a SOAP Envelope' };
  }
  const body = (envelope as Record<string, unknown>).Body;
  if (body === '') return { kind: 'content', name: undefined, value: null };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { kind: 'not-soap', reason: 'the SOAP Envelope has no Body' };
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key === TEXT_KEY || key.startsWith(ATTRIBUTE_PREFIX)) continue;
    const value = record[key];
    if (key === 'Fault') return { kind: 'fault', fault: faultOf(Array.isArray(value) ? value[0] : value) };
    return { kind: 'content', name: key, value };
  }
  return { kind: 'content', name: undefined, value: null };
}

function faultOf(value: unknown): SoapFault {
  const fault = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  // SOAP 1.1: faultcode, faultstring, faultactor, detail.
  if (fault.faultcode !== undefined || fault.faultstring !== undefined) {
    return { faultcode: textOf(fault.faultcode), faultstring: textOf(fault.faultstring), fault };
  }
  // SOAP 1.2: Code/Value (Subcode/Value…), Reason/Text (one per language), Node, Role, Detail.
  const code = fault.Code as Record<string, unknown> | undefined;
  const reason = fault.Reason as Record<string, unknown> | undefined;
  const texts = reason?.Text;
  return {
    faultcode: textOf(typeof code === 'object' && code !== null ? code.Value : code),
    faultstring: textOf(Array.isArray(texts) ? texts[0] : texts),
    fault,
  };
}

/** The text of a parsed element: its value, or its "#text" when it has attributes (xml:lang). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const text = (value as Record<string, unknown>)[TEXT_KEY];
    if (typeof text === 'string') return text;
  }
  return '';
}
