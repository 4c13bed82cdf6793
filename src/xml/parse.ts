/**
 * Safe XML parsing for untrusted documents (backend answers, WSDLs), shared by the `soap` and
 * `xml` connectors. fast-xml-parser does the parsing; this module adds what it leaves to callers:
 *
 * - Any markup declaration (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`…) outside comments and CDATA is
 *   refused before parsing, so no DTD is ever read: entity expansion (billion laughs) and external
 *   entities (XXE) cannot happen. Only the five predefined entities and character references
 *   (`&#233;`) are decoded.
 * - The document is checked for well-formedness first (fast-xml-parser's parser alone accepts
 *   mismatched or missing end tags, so a truncated answer would read as a shorter one).
 * - The bytes are decoded by the BOM, the content type's charset, or the XML declaration.
 *
 * The JSON conventions (docs/connectors/xml.md, "XML to JSON"): element and attribute names are
 * local names (namespace prefixes removed, xmlns declarations dropped); attributes are keys
 * prefixed with "@"; text is the element's value when it has no attributes or children, else it is
 * under "#text"; an empty element is ""; a repeated element is an array; values stay strings
 * (shape.ts types them and makes chosen elements arrays even when they occur once).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** The document cannot be accepted: malformed, a DTD, an unknown charset. `message` says why. */
export class XmlDecodeError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'XmlDecodeError';
  }
}

/** The key prefix of attributes in the JSON form of a document. */
export const ATTRIBUTE_PREFIX = '@';
/** The key of an element's text when it also has attributes or children. */
export const TEXT_KEY = '#text';

/**
 * The predefined XML entities. Given as fast-xml-parser's `htmlEntities` table, which also turns
 * on character references, and replaces (not extends) its HTML entity set.
 */
const XML_ENTITIES = { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' };

/** Deeper nesting is refused: no real answer needs it, and it bounds the parser's stack. */
const MAX_DEPTH = 256;

const COMMON_OPTIONS = {
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  // Typed as boolean, but an entity table is accepted: it decodes these names and &#…; only.
  htmlEntities: XML_ENTITIES as unknown as boolean,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  maxNestedTags: MAX_DEPTH,
  // Keeps names such as toString or valueOf as they are: the parser builds plain objects and
  // still refuses __proto__, constructor and prototype, which is what prototype safety needs.
  onDangerousProperty: (name: string) => name,
} as const;

/** The parser of answers: local names, "@" attributes, "#text" for mixed text. */
const jsonParser = new XMLParser({
  ...COMMON_OPTIONS,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  textNodeName: TEXT_KEY,
  removeNSPrefix: true,
});

/** The parser of descriptions (WSDL, XSD): qualified names, attributes and document order kept. */
const orderedParser = new XMLParser({
  ...COMMON_OPTIONS,
  attributeNamePrefix: '',
  textNodeName: '#text',
  removeNSPrefix: false,
  preserveOrder: true,
});

/** Parses an XML document to its JSON form (see the module comment), refusing DTDs and malformed XML. */
export function parseXml(text: string): Record<string, unknown> {
  const source = checkedSource(text);
  try {
    return jsonParser.parse(source) as Record<string, unknown>;
  } catch (error) {
    throw new XmlDecodeError(`the XML could not be read: ${errorMessage(error)}`, { cause: error });
  }
}

/** One element of a document read with its qualified names and namespace scope (for WSDL and XSD). */
export interface XmlElement {
  /** The namespace URI of the element ('' for none). */
  readonly ns: string;
  readonly local: string;
  /** Attributes by their name as written (prefix included), xmlns declarations left out. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text, trimmed and joined. */
  readonly text: string;
  /** Prefix to namespace URI in scope here; the default namespace is under ''. */
  readonly scope: ReadonlyMap<string, string>;
}

type OrderedNode = Record<string, unknown>;

/** Parses a document into namespace-resolved elements and returns its root element. */
export function parseXmlElements(text: string): XmlElement {
  const source = checkedSource(text);
  let nodes: OrderedNode[];
  try {
    nodes = orderedParser.parse(source) as OrderedNode[];
  } catch (error) {
    throw new XmlDecodeError(`the XML could not be read: ${errorMessage(error)}`, { cause: error });
  }
  const root = new Map<string, string>([['xml', 'http://www.w3.org/XML/1998/namespace']]);
  for (const node of nodes) {
    const element = toElement(node, root);
    if (element !== undefined) return element;
  }
  throw new XmlDecodeError('the XML has no root element');
}

function toElement(node: OrderedNode, parentScope: ReadonlyMap<string, string>): XmlElement | undefined {
  let name: string | undefined;
  for (const key of Object.keys(node)) {
    if (key !== ':@' && key !== '#text') name = key;
  }
  if (name === undefined) return undefined;
  const rawAttributes = (node[':@'] ?? {}) as Record<string, string>;
  let scope = parentScope;
  const attributes: Record<string, string> = {};
  for (const [attribute, value] of Object.entries(rawAttributes)) {
    if (attribute === 'xmlns' || attribute.startsWith('xmlns:')) {
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(attribute === 'xmlns' ? '' : attribute.slice(6), value);
    } else {
      attributes[attribute] = value;
    }
  }
  const colon = name.indexOf(':');
  const prefix = colon === -1 ? '' : name.slice(0, colon);
  const local = colon === -1 ? name : name.slice(colon + 1);
  const ns = scope.get(prefix);
  if (ns === undefined && prefix !== '') {
    throw new XmlDecodeError(`the XML uses the undeclared namespace prefix "${prefix}" (element <${name}>)`);
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of node[name] as OrderedNode[]) {
    const childText = child['#text'];
    if (childText !== undefined && Object.keys(child).length === 1) {
      text += String(childText);
      continue;
    }
    const element = toElement(child, scope);
    if (element !== undefined) children.push(element);
  }
  return { ns: ns ?? '', local, attributes, children, text, scope };
}

/** The document without a BOM, after the checks every parse needs. */
function checkedSource(text: string): string {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  refuseDeclarations(source);
  const valid = XMLValidator.validate(source);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new XmlDecodeError(`the XML is malformed at line ${line}, column ${col}: ${msg}`);
  }
  return source;
}

/**
 * Refuses any `<!` markup other than comments and CDATA sections: DOCTYPE and the declarations it
 * holds are where entity bombs and external entities live. Runs on indexOf, so it costs far less
 * than the parse it protects.
 */
function refuseDeclarations(source: string): void {
  let index = source.indexOf('<!');
  while (index !== -1) {
    if (source.startsWith('<!--', index)) {
      const end = source.indexOf('-->', index + 4);
      if (end === -1) return; // the validator reports the unclosed comment
      index = source.indexOf('<!', end + 3);
    } else if (source.startsWith('<![CDATA[', index)) {
      const end = source.indexOf(']]>', index + 9);
      if (end === -1) return;
      index = source.indexOf('<!', end + 3);
    } else {
      const what = /^<!([A-Za-z]*)/.exec(source.slice(index, index + 12))?.[1] || 'markup';
      throw new XmlDecodeError(
        `the XML has a <!${what}> declaration; DTDs and entity declarations are refused`,
      );
    }
  }
}

/** Charsets decoded by Buffer directly; others go through TextDecoder (Node's full ICU). */
const BUFFER_CHARSETS: ReadonlyMap<string, BufferEncoding> = new Map([
  ['utf-8', 'utf8'],
  ['utf8', 'utf8'],
  ['us-ascii', 'latin1'],
  ['ascii', 'latin1'],
  ['iso-8859-1', 'latin1'],
  ['latin1', 'latin1'],
]);

const DECLARED_ENCODING = /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;

/**
 * Decodes the bytes of a document: a BOM decides first, then the charset of the content type, then
 * the encoding of the XML declaration, else UTF-8.
 */
export function decodeXmlBytes(bytes: Buffer, contentType: string | undefined): string {
  if (bytes.length >= 2) {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeWith('utf-16le', bytes);
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeWith('utf-16be', bytes);
  }
  let charset = contentType === undefined ? undefined : charsetOf(contentType);
  if (charset === undefined) {
    const head = bytes.toString('latin1', 0, Math.min(bytes.length, 200));
    charset = DECLARED_ENCODING.exec(head)?.[1]?.toLowerCase();
  }
  if (charset === undefined) return bytes.toString('utf8');
  const encoding = BUFFER_CHARSETS.get(charset);
  if (encoding !== undefined) return bytes.toString(encoding);
  return decodeWith(charset, bytes);
}

function decodeWith(charset: string, bytes: Buffer): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch (error) {
    throw new XmlDecodeError(`the XML is in an unknown charset "${charset}"`, { cause: error });
  }
}

function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match?.[1]?.toLowerCase();
}

/** The media type of a content type header, lowercased, without parameters. */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** application/xml, text/xml and any type ending in +xml (rss, atom, soap…). */
export function isXmlMediaType(mediaType: string): boolean {
  return mediaType === 'application/xml' || mediaType === 'text/xml' || mediaType.endsWith('+xml');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
