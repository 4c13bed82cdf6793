/**
 * The shapes the XML Schema part of a WSDL is read into (elements, their content types and
 * attributes), which write requests and read answers, and the JSON Schema of an element's
 * content for describe() and the portal.
 */
import type { XmlElement } from '../../xml/parse.ts';
import type { ShapeNode, ValueType } from '../../xml/shape.ts';

/** A description that cannot be used; the message names what is missing or wrong. */
export class WsdlError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'WsdlError';
  }
}

/** A qualified name: namespace URI and local name. */
export interface QName {
  readonly ns: string;
  readonly local: string;
}

/** The content of an element: its text type, child elements (in order) and attributes. */
export class TypeShape {
  valueType: ValueType | undefined = undefined;
  complex = false;
  /** Children by JSON key (local name, "@" + name for attributes); undefined for any content. */
  children: Map<string, ShapeNode> | undefined = undefined;
  /** Child elements in the order a sequence writes them. */
  readonly elements: ElementShape[] = [];
  readonly attributes: AttributeShape[] = [];
  /** xsd:any: children the schema does not name may appear. */
  open = false;
  /** Where the content comes from, until filled. */
  source: { node: XmlElement; schema: SchemaInfo } | undefined;
  filling = false;
  /** Why the content cannot be read, once tried. */
  failure: WsdlError | undefined = undefined;

  constructor(source?: { node: XmlElement; schema: SchemaInfo }) {
    this.source = source;
  }
}

/** An element declaration as used at one place: its name, namespace, occurrence and content. */
export class ElementShape implements ShapeNode {
  readonly local: string;
  /** The namespace URI the element is written in ('' when unqualified). */
  readonly ns: string;
  repeated: boolean;
  readonly nillable: boolean;
  readonly type: TypeShape;
  /** The name written in requests (prefixed by the envelope's declaration of ns), set by the envelope writer. */
  tag = '';

  constructor(local: string, ns: string, repeated: boolean, nillable: boolean, type: TypeShape) {
    this.local = local;
    this.ns = ns;
    this.repeated = repeated;
    this.nillable = nillable;
    this.type = type;
  }

  get valueType(): ValueType | undefined {
    return this.type.valueType;
  }
  get complex(): boolean {
    return this.type.complex;
  }
  get children(): ReadonlyMap<string, ShapeNode> | undefined {
    return this.type.children;
  }
  get anyChild(): undefined {
    return undefined;
  }
  /** Services send xsi:nil even where their XSD forgot nillable="true": it is null either way. */
  get readsNil(): boolean {
    return true;
  }
}

/** An attribute declaration. */
export class AttributeShape implements ShapeNode {
  readonly local: string;
  readonly ns: string;
  readonly valueType: ValueType;
  readonly repeated = false;
  readonly complex = false;
  readonly readsNil = false;
  readonly children = undefined;
  readonly anyChild = undefined;
  tag = '';

  constructor(local: string, ns: string, valueType: ValueType) {
    this.local = local;
    this.ns = ns;
    this.valueType = valueType;
  }
}

/** The facts of one xsd:schema element that its declarations depend on. */
export interface SchemaInfo {
  readonly targetNamespace: string;
  readonly elementsQualified: boolean;
  readonly attributesQualified: boolean;
  /** Where the schema was read from, for messages. */
  readonly location: string;
}

/** The JSON Schema of an element's content, for describe() and the portal; recursion is cut with {}. */
export function contentJsonSchema(
  type: TypeShape,
  seen: Set<TypeShape> = new Set(),
): Record<string, unknown> {
  if (type.children === undefined && type.valueType === undefined) return {};
  if (!type.complex && type.attributes.length === 0) return valueSchema(type.valueType);
  if (seen.has(type) || seen.size > 16) return { description: 'recursive content (see the WSDL)' };
  seen.add(type);
  const properties: Record<string, unknown> = {};
  for (const attribute of type.attributes)
    properties[`@${attribute.local}`] = valueSchema(attribute.valueType);
  for (const element of type.elements) {
    const content = contentJsonSchema(element.type, seen);
    const value = element.nillable ? { anyOf: [content, { type: 'null' }] } : content;
    properties[element.local] = element.repeated ? { type: 'array', items: value } : value;
  }
  if (type.valueType !== undefined) properties['#text'] = valueSchema(type.valueType);
  seen.delete(type);
  const schema: Record<string, unknown> = { type: 'object', properties };
  if (type.open) schema.additionalProperties = true;
  return schema;
}

function valueSchema(valueType: ValueType | undefined): Record<string, unknown> {
  return valueType === undefined ? {} : { type: valueType };
}
