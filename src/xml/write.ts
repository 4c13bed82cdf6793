/**
 * Writing XML from JSON with the conventions parse.ts reads (docs/connectors/xml.md): "@name" keys
 * are attributes, "#text" is text, arrays are repeated elements, null and missing values are left
 * out. Written by hand rather than with fast-xml-parser's XMLBuilder because the writer must refuse
 * what the builder would pass through into the markup — names that are not XML names (a key such
 * as `a><b` from request data would inject elements) and characters XML 1.0 cannot carry — and
 * because the SOAP connector writes elements in XSD order with per-element namespaces, which the
 * builder has no notion of. This module has the pieces both connectors share.
 */
import { ATTRIBUTE_PREFIX, TEXT_KEY } from './parse.ts';

/** A JSON value that has no XML form; `field` is its path in the input (e.g. body.items[2].name). */
export class XmlWriteError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field} ${message}`);
    this.name = 'XmlWriteError';
    this.field = field;
  }
}

/** An XML name, optionally prefixed (p:name). */
const XML_NAME = /^[\p{L}_][\p{L}\p{N}_.\-\u00B7]*(:[\p{L}_][\p{L}\p{N}_.\-\u00B7]*)?$/u;
/** Characters XML 1.0 cannot carry, lone surrogates included (the u flag reads them as code points). */
const INVALID_CHARACTER = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const TEXT_SPECIAL = /[&<>\r]/;
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/;

/** Deeper input is refused (and a cyclic value from a code step cannot loop). */
const MAX_DEPTH = 256;

/** Whether a key can be written as an element or attribute name. */
export function isXmlName(name: string): boolean {
  return XML_NAME.test(name);
}

/** Escapes text content; refuses characters XML cannot carry. */
export function escapeText(text: string, field: string): string {
  if (INVALID_CHARACTER.test(text)) throw invalidCharacter(field);
  if (!TEXT_SPECIAL.test(text)) return text;
  // \r is written as a reference: a parser would otherwise normalise it to \n.
  return text.replace(/[&<>\r]/g, (char) => TEXT_ESCAPES[char]!);
}

/** Escapes an attribute value (quoted with "); refuses characters XML cannot carry. */
export function escapeAttribute(text: string, field: string): string {
  if (INVALID_CHARACTER.test(text)) throw invalidCharacter(field);
  if (!ATTRIBUTE_SPECIAL.test(text)) return text;
  return text.replace(/[&<>"\t\n\r]/g, (char) => ATTRIBUTE_ESCAPES[char]!);
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = {
  ...TEXT_ESCAPES,
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
};

function invalidCharacter(field: string): XmlWriteError {
  return new XmlWriteError(
    field,
    'has a character XML cannot carry (a control character or a lone surrogate)',
  );
}

/** The text of a scalar, or undefined for anything else. */
export function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return undefined;
  }
}

/** Appends one element named `name` (a JSON array: one element per item) holding `value`. */
export function writeElement(name: string, value: unknown, field: string, depth = 0): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    let xml = '';
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (Array.isArray(item)) {
        throw new XmlWriteError(`${field}[${index}]`, 'is an array inside an array, which has no XML form');
      }
      xml += writeElement(name, item, `${field}[${index}]`, depth);
    }
    return xml;
  }
  const text = scalarText(value);
  if (text !== undefined) {
    return text === '' ? `<${name}/>` : `<${name}>${escapeText(text, field)}</${name}>`;
  }
  if (typeof value !== 'object')
    throw new XmlWriteError(field, `is a ${typeof value}, which has no XML form`);
  if (depth >= MAX_DEPTH) throw new XmlWriteError(field, `nests deeper than ${MAX_DEPTH} levels`);
  const record = value as Record<string, unknown>;
  const attributes = writeAttributes(record, field);
  const content = writeContent(record, field, depth + 1);
  return content === '' ? `<${name}${attributes}/>` : `<${name}${attributes}>${content}</${name}>`;
}

/** The attributes ("@name" keys) of an object, each as ` name="value"`. */
export function writeAttributes(record: Record<string, unknown>, field: string): string {
  let xml = '';
  for (const key of Object.keys(record)) {
    if (!key.startsWith(ATTRIBUTE_PREFIX)) continue;
    const value = record[key];
    if (value === undefined || value === null) continue;
    const name = key.slice(ATTRIBUTE_PREFIX.length);
    const at = `${field}.${key}`;
    if (!isXmlName(name)) throw new XmlWriteError(at, `"${name}" is not an XML attribute name`);
    const text = scalarText(value);
    if (text === undefined) throw new XmlWriteError(at, 'must be a string, a number or a boolean');
    xml += ` ${name}="${escapeAttribute(text, at)}"`;
  }
  return xml;
}

/** The content of an object: its "#text", then one element per other key, in key order; `skip` keys are left out. */
export function writeContent(
  record: Record<string, unknown>,
  field: string,
  depth: number,
  skip?: { has(key: string): boolean },
): string {
  let xml = '';
  const text = skip?.has(TEXT_KEY) === true ? undefined : record[TEXT_KEY];
  if (text !== undefined && text !== null) {
    const scalar = scalarText(text);
    if (scalar === undefined) {
      throw new XmlWriteError(`${field}.${TEXT_KEY}`, 'must be a string, a number or a boolean');
    }
    xml += escapeText(scalar, `${field}.${TEXT_KEY}`);
  }
  for (const key of Object.keys(record)) {
    if (key === TEXT_KEY || key.startsWith(ATTRIBUTE_PREFIX) || skip?.has(key) === true) continue;
    const at = `${field}.${key}`;
    if (!isXmlName(key)) throw new XmlWriteError(at, `"${key}" is not an XML element name`);
    xml += writeElement(key, record[key], at, depth);
  }
  return xml;
}

/** The XML declaration every written document starts with. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
