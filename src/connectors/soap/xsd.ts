/**
 * The XML Schema part of a WSDL, read into shapes: for each element, its namespace, whether it
 * repeats, whether it may be nil, the JSON type of its text, and its children in sequence order.
 * The same shapes write requests (elements in XSD order, each in its namespace) and read answers
 * (repeating elements as arrays, typed values). Covers what document/literal and rpc/literal
 * services use: global and local elements, refs, named and anonymous complex and simple types,
 * sequence/choice/all/group with occurrence counts, complexContent and simpleContent extension
 * and restriction, attributes and attribute groups, xsd:any. Not covered: substitution groups,
 * redefine/override, identity constraints (none change the JSON form), SOAP-encoded arrays.
 */
import type { XmlElement } from '../../xml/parse.ts';
import type { ValueType } from '../../xml/shape.ts';
import {
  AttributeShape,
  ElementShape,
  type QName,
  type SchemaInfo,
  TypeShape,
  WsdlError,
} from './xsd-shapes.ts';

export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

const BUILTIN_TYPES: ReadonlyMap<string, ValueType> = new Map([
  ...(
    [
      'integer',
      'int',
      'long',
      'short',
      'byte',
      'nonNegativeInteger',
      'positiveInteger',
      'nonPositiveInteger',
      'negativeInteger',
      'unsignedLong',
      'unsignedInt',
      'unsignedShort',
      'unsignedByte',
    ] as const
  ).map((name) => [name, 'integer'] as const),
  ['decimal', 'number'],
  ['float', 'number'],
  ['double', 'number'],
  ['boolean', 'boolean'],
]);

interface Declaration {
  readonly node: XmlElement;
  readonly schema: SchemaInfo;
}

const ANY_TYPE = new TypeShape();

/** Every global declaration of the schemas of a WSDL, and the shapes built from them. */
export class SchemaSet {
  readonly #elements = new Map<string, Declaration>();
  readonly #complexTypes = new Map<string, Declaration>();
  readonly #simpleTypes = new Map<string, Declaration>();
  readonly #groups = new Map<string, Declaration>();
  readonly #attributeGroups = new Map<string, Declaration>();
  readonly #attributes = new Map<string, Declaration>();
  readonly #typeShapes = new Map<XmlElement, TypeShape>();
  readonly #builtinShapes = new Map<ValueType, TypeShape>();

  /** Adds the global declarations of one xsd:schema element. */
  addSchema(node: XmlElement, schema: SchemaInfo): void {
    const tables: Record<string, Map<string, Declaration>> = {
      element: this.#elements,
      complexType: this.#complexTypes,
      simpleType: this.#simpleTypes,
      group: this.#groups,
      attributeGroup: this.#attributeGroups,
      attribute: this.#attributes,
    };
    for (const child of node.children) {
      if (child.ns !== XSD_NS) continue;
      const table = tables[child.local];
      const name = child.attributes.name;
      if (table === undefined || name === undefined) continue;
      const key = keyOf({ ns: schema.targetNamespace, local: name });
      // The first declaration wins: a schema read twice (through two imports) declares the same.
      if (!table.has(key)) table.set(key, { node: child, schema });
    }
  }

  /** The shape of a global element, as the body of a document/literal message. */
  globalElement(name: QName): ElementShape {
    const declaration = this.#elements.get(keyOf(name));
    if (declaration === undefined) throw notFound('element', name);
    return this.#element(declaration.node, declaration.schema, true, false);
  }

  /** An element named `local` (unqualified, as an rpc part) whose content is the named type. */
  partElement(local: string, type: QName): ElementShape {
    return new ElementShape(local, '', false, false, this.#type(type));
  }

  /** Fills every type an element reaches; throws the WsdlError of the first that cannot be read. */
  complete(element: ElementShape): void {
    const seen = new Set<TypeShape>();
    const visit = (type: TypeShape): void => {
      if (seen.has(type)) return;
      seen.add(type);
      this.#fill(type);
      for (const child of type.elements) visit(child.type);
    };
    visit(element.type);
  }

  #element(node: XmlElement, schema: SchemaInfo, global: boolean, repeatedByParticle: boolean): ElementShape {
    const repeated = repeatedByParticle || isRepeated(node);
    const ref = node.attributes.ref;
    if (ref !== undefined) {
      const target = this.globalElement(resolveQName(node, ref));
      return new ElementShape(target.local, target.ns, repeated, target.nillable, target.type);
    }
    const name = node.attributes.name;
    if (name === undefined) throw new WsdlError(`an xsd:element without name or ref in ${schema.location}`);
    const form = node.attributes.form;
    const qualified = global || (form === undefined ? schema.elementsQualified : form === 'qualified');
    const nillable = node.attributes.nillable === 'true' || node.attributes.nillable === '1';
    let type: TypeShape = ANY_TYPE;
    if (node.attributes.type !== undefined) {
      type = this.#type(resolveQName(node, node.attributes.type));
    } else {
      const inline = xsdChildren(node).find(
        (child) => child.local === 'complexType' || child.local === 'simpleType',
      );
      if (inline !== undefined) type = this.#typeOf(inline, schema);
    }
    return new ElementShape(name, qualified ? schema.targetNamespace : '', repeated, nillable, type);
  }

  /** The shape of a named type. */
  #type(name: QName): TypeShape {
    if (name.ns === XSD_NS) {
      if (name.local === 'anyType') return ANY_TYPE;
      return this.#builtin(BUILTIN_TYPES.get(name.local) ?? 'string');
    }
    const key = keyOf(name);
    const complex = this.#complexTypes.get(key);
    if (complex !== undefined) return this.#typeOf(complex.node, complex.schema);
    const simple = this.#simpleTypes.get(key);
    if (simple !== undefined) return this.#typeOf(simple.node, simple.schema);
    throw notFound('type', name);
  }

  #builtin(valueType: ValueType): TypeShape {
    let shape = this.#builtinShapes.get(valueType);
    if (shape === undefined) {
      shape = new TypeShape();
      shape.valueType = valueType;
      this.#builtinShapes.set(valueType, shape);
    }
    return shape;
  }

  /** The shape of a complexType or simpleType node, created once and filled later (types may be recursive). */
  #typeOf(node: XmlElement, schema: SchemaInfo): TypeShape {
    let shape = this.#typeShapes.get(node);
    if (shape === undefined) {
      shape = new TypeShape({ node, schema });
      this.#typeShapes.set(node, shape);
    }
    return shape;
  }

  #fill(shape: TypeShape): void {
    if (shape.failure !== undefined) throw shape.failure;
    const source = shape.source;
    if (source === undefined) return;
    if (shape.filling) {
      throw new WsdlError(
        `type ${describeNode(source.node)} in ${source.schema.location} derives from itself`,
      );
    }
    shape.filling = true;
    const { node, schema } = source;
    try {
      if (node.local === 'simpleType') {
        shape.valueType = this.#simpleValueType(node, schema);
      } else {
        shape.children = new Map();
        this.#complexContent(shape, node, schema);
        shape.complex =
          shape.elements.length > 0 || (shape.attributes.length > 0 && shape.valueType === undefined);
      }
      shape.source = undefined;
    } catch (error) {
      // Every operation using this type fails with the same reason, never with a half-read type.
      shape.failure = error instanceof WsdlError ? error : new WsdlError(String(error), { cause: error });
      throw shape.failure;
    } finally {
      shape.filling = false;
    }
  }

  #complexContent(shape: TypeShape, node: XmlElement, schema: SchemaInfo): void {
    for (const child of xsdChildren(node)) {
      switch (child.local) {
        case 'sequence':
        case 'choice':
        case 'all':
        case 'group':
          this.#particle(shape, child, schema, false);
          break;
        case 'attribute':
        case 'attributeGroup':
          this.#attribute(shape, child, schema);
          break;
        case 'anyAttribute':
          break;
        case 'complexContent':
        case 'simpleContent':
          for (const derivation of xsdChildren(child)) {
            if (derivation.local !== 'extension' && derivation.local !== 'restriction') continue;
            this.#derive(shape, derivation, schema, child.local === 'simpleContent');
          }
          break;
      }
    }
  }

  /** extension (base content first, then this one) or restriction (this content only; simple base kept). */
  #derive(shape: TypeShape, derivation: XmlElement, schema: SchemaInfo, simpleContent: boolean): void {
    const baseName = derivation.attributes.base;
    let base: TypeShape | undefined;
    if (baseName !== undefined) {
      base = this.#type(resolveQName(derivation, baseName));
      this.#fill(base);
    } else {
      const inline = xsdChildren(derivation).find((child) => child.local === 'simpleType');
      if (inline !== undefined) {
        base = this.#typeOf(inline, schema);
        this.#fill(base);
      }
    }
    if (base !== undefined) {
      if (simpleContent) shape.valueType = base.valueType;
      if (derivation.local === 'extension' || simpleContent) {
        for (const element of base.elements) this.#add(shape, element);
        for (const attribute of base.attributes) this.#addAttribute(shape, attribute);
        if (base.open) shape.open = true;
      }
    }
    this.#complexContent(shape, derivation, schema);
  }

  #particle(shape: TypeShape, node: XmlElement, schema: SchemaInfo, repeated: boolean): void {
    const here = repeated || isRepeated(node);
    if (node.local === 'group' && node.attributes.ref !== undefined) {
      const name = resolveQName(node, node.attributes.ref);
      const group = this.#groups.get(keyOf(name));
      if (group === undefined) throw notFound('group', name);
      for (const child of xsdChildren(group.node)) this.#particle(shape, child, group.schema, here);
      return;
    }
    switch (node.local) {
      case 'element':
        this.#add(shape, this.#element(node, schema, false, here));
        break;
      case 'sequence':
      case 'choice':
      case 'all':
        for (const child of xsdChildren(node)) this.#particle(shape, child, schema, here);
        break;
      case 'any':
        // Content the schema does not describe: such children keep their parsed form.
        shape.open = true;
        break;
    }
  }

  #add(shape: TypeShape, element: ElementShape): void {
    const same = shape.elements.find((known) => known.local === element.local);
    if (same !== undefined) {
      // The same name twice in a content model reads as one array.
      same.repeated = true;
      return;
    }
    shape.elements.push(element);
    shape.children?.set(element.local, element);
  }

  #attribute(shape: TypeShape, node: XmlElement, schema: SchemaInfo): void {
    if (node.local === 'attributeGroup') {
      const ref = node.attributes.ref;
      if (ref === undefined) return;
      const name = resolveQName(node, ref);
      const group = this.#attributeGroups.get(keyOf(name));
      if (group === undefined) throw notFound('attributeGroup', name);
      for (const child of xsdChildren(group.node)) {
        if (child.local === 'attribute' || child.local === 'attributeGroup') {
          this.#attribute(shape, child, group.schema);
        }
      }
      return;
    }
    let declaration: XmlElement = node;
    let declaredIn = schema;
    let global = false;
    if (node.attributes.ref !== undefined) {
      const name = resolveQName(node, node.attributes.ref);
      const found = this.#attributes.get(keyOf(name));
      if (found === undefined) throw notFound('attribute', name);
      declaration = found.node;
      declaredIn = found.schema;
      global = true;
    }
    const local = declaration.attributes.name;
    if (local === undefined) return;
    const form = declaration.attributes.form;
    const qualified = global || (form === undefined ? declaredIn.attributesQualified : form === 'qualified');
    let valueType: ValueType = 'string';
    if (declaration.attributes.type !== undefined) {
      valueType = this.#simpleTypeOf(resolveQName(declaration, declaration.attributes.type));
    } else {
      const inline = xsdChildren(declaration).find((child) => child.local === 'simpleType');
      if (inline !== undefined) valueType = this.#simpleValueType(inline, declaredIn);
    }
    this.#addAttribute(
      shape,
      new AttributeShape(local, qualified ? declaredIn.targetNamespace : '', valueType),
    );
  }

  #addAttribute(shape: TypeShape, attribute: AttributeShape): void {
    if (shape.attributes.some((known) => known.local === attribute.local)) return;
    shape.attributes.push(attribute);
    shape.children?.set(`@${attribute.local}`, attribute);
  }

  #simpleTypeOf(name: QName): ValueType {
    if (name.ns === XSD_NS) return BUILTIN_TYPES.get(name.local) ?? 'string';
    const simple = this.#simpleTypes.get(keyOf(name));
    if (simple === undefined) throw notFound('simpleType', name);
    return this.#simpleValueType(simple.node, simple.schema);
  }

  /** A simple type's JSON type: its restriction base's; lists and unions stay strings. */
  #simpleValueType(node: XmlElement, schema: SchemaInfo, depth = 0): ValueType {
    if (depth > 32)
      throw new WsdlError(`simple type ${describeNode(node)} in ${schema.location} derives from itself`);
    for (const child of xsdChildren(node)) {
      if (child.local !== 'restriction') continue;
      const base = child.attributes.base;
      if (base !== undefined) {
        const name = resolveQName(child, base);
        if (name.ns === XSD_NS) return BUILTIN_TYPES.get(name.local) ?? 'string';
        const simple = this.#simpleTypes.get(keyOf(name));
        if (simple === undefined) throw notFound('simpleType', name);
        return this.#simpleValueType(simple.node, simple.schema, depth + 1);
      }
      const inline = xsdChildren(child).find((grandChild) => grandChild.local === 'simpleType');
      if (inline !== undefined) return this.#simpleValueType(inline, schema, depth + 1);
    }
    return 'string';
  }
}

function xsdChildren(node: XmlElement): XmlElement[] {
  return node.children.filter((child) => child.ns === XSD_NS);
}

/** maxOccurs above one, or unbounded. */
function isRepeated(node: XmlElement): boolean {
  const max = node.attributes.maxOccurs;
  return max !== undefined && (max === 'unbounded' || Number(max) > 1);
}

/** Resolves a QName attribute value (p:name, or name in the default namespace) in the scope of `node`. */
export function resolveQName(node: XmlElement, value: string): QName {
  const colon = value.indexOf(':');
  const prefix = colon === -1 ? '' : value.slice(0, colon);
  const local = colon === -1 ? value : value.slice(colon + 1);
  const ns = node.scope.get(prefix);
  if (ns === undefined && prefix !== '') {
    throw new WsdlError(`the prefix "${prefix}" of "${value}" is not declared`);
  }
  return { ns: ns ?? '', local };
}

function keyOf(name: QName): string {
  return `{${name.ns}}${name.local}`;
}

function notFound(what: string, name: QName): WsdlError {
  return new WsdlError(
    `${what} {${name.ns}}${name.local} is not declared in the WSDL or the schemas it imports or includes`,
  );
}

function describeNode(node: XmlElement): string {
  return node.attributes.name === undefined ? '(anonymous)' : `"${node.attributes.name}"`;
}
