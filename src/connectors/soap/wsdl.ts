/**
 * Reading a WSDL 1.1 once, at load: the document (a file, or an http(s) URL), the WSDLs it
 * imports and the XSDs its schemas import and include (each resolved against the location of the
 * document that names it), then the operations of one SOAP port with everything a call needs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { decodeXmlBytes, parseXmlElements, type XmlElement } from '../../xml/parse.ts';
import { resolveQName, SchemaSet, XSD_NS } from './xsd.ts';
import { ElementShape, type QName, TypeShape, WsdlError } from './xsd-shapes.ts';

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP11_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
const SOAP12_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';

/** Largest WSDL or XSD document read. */
const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
/** Most documents (WSDLs and XSDs) one service may read. */
const MAX_DOCUMENTS = 200;

export type SoapVersion = '1.1' | '1.2';

/** Where a document is read from. */
type Location =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: URL };

/** One operation of the chosen port, ready to call. */
export interface WsdlOperation {
  readonly name: string;
  readonly soapAction: string;
  readonly style: 'document' | 'rpc';
  /** The element the request body holds (the wrapper of document/literal, the operation element of rpc). */
  readonly input: ElementShape;
  /** The answer's body element; undefined for a one-way operation. */
  readonly output: ElementShape | undefined;
  readonly documentation: string | undefined;
}

/** The port a service calls and its operations, by name. */
export interface WsdlPort {
  readonly name: string;
  readonly version: SoapVersion;
  /** The soap:address location, if the port has one. */
  readonly address: string | undefined;
  readonly operations: ReadonlyMap<string, WsdlOperation>;
  /** Operations the port has but Chorus cannot call (encoded use, several body parts…), with why. */
  readonly unsupported: ReadonlyMap<string, string>;
}

/** What to pick from a WSDL. */
export interface PortChoice {
  readonly version: SoapVersion | undefined;
  readonly port: string | undefined;
  /** Timeout of reading each document over HTTP. */
  readonly timeoutMs: number;
}

/** Reads a WSDL and returns the chosen port with its operations, or throws a WsdlError. */
export async function loadWsdl(source: string, baseDir: string, choice: PortChoice): Promise<WsdlPort> {
  const location = locate(source, undefined, baseDir);
  const reader = new DocumentReader(choice.timeoutMs);
  const definitions: XmlElement[] = [];
  const schemas = new SchemaSet();
  await reader.readWsdl(location, definitions, schemas);
  return buildPort(definitions, schemas, choice);
}

/** Reads each document once, following wsdl:import, xsd:import and xsd:include. */
class DocumentReader {
  readonly #seen = new Set<string>();
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  async readWsdl(location: Location, definitions: XmlElement[], schemas: SchemaSet): Promise<void> {
    if (!this.#first(location)) return;
    const root = await this.#read(location);
    if (root.ns !== WSDL_NS || root.local !== 'definitions') {
      const found = root.ns === 'http://www.w3.org/ns/wsdl' ? 'a WSDL 2.0 description' : `<${root.local}>`;
      throw new WsdlError(
        `${show(location)} is not a WSDL 1.1 document (found ${found}); Chorus reads WSDL 1.1`,
      );
    }
    definitions.push(root);
    for (const child of root.children) {
      if (child.ns === WSDL_NS && child.local === 'import' && child.attributes.location !== undefined) {
        await this.readWsdl(locate(child.attributes.location, location), definitions, schemas);
      } else if (child.ns === WSDL_NS && child.local === 'types') {
        for (const schema of child.children) {
          if (schema.ns === XSD_NS && schema.local === 'schema') {
            await this.#addSchema(schema, location, schemas, undefined);
          }
        }
      }
    }
  }

  /** Adds a schema and, first, what it imports and includes. */
  async #addSchema(
    schema: XmlElement,
    location: Location,
    schemas: SchemaSet,
    includingNamespace: string | undefined,
  ): Promise<void> {
    // An included schema without a targetNamespace takes the including schema's ("chameleon").
    const targetNamespace = schema.attributes.targetNamespace ?? includingNamespace ?? '';
    schemas.addSchema(schema, {
      targetNamespace,
      elementsQualified: schema.attributes.elementFormDefault === 'qualified',
      attributesQualified: schema.attributes.attributeFormDefault === 'qualified',
      location: show(location),
    });
    for (const child of schema.children) {
      if (child.ns !== XSD_NS) continue;
      const schemaLocation = child.attributes.schemaLocation;
      if (schemaLocation === undefined) continue;
      if (child.local !== 'import' && child.local !== 'include') continue;
      const target = locate(schemaLocation, location);
      if (!this.#first(target)) continue;
      const root = await this.#read(target);
      if (root.ns !== XSD_NS || root.local !== 'schema') {
        throw new WsdlError(`${show(target)} (${child.local}ed by ${show(location)}) is not an XML Schema`);
      }
      await this.#addSchema(root, target, schemas, child.local === 'include' ? targetNamespace : undefined);
    }
  }

  #first(location: Location): boolean {
    const key = show(location);
    if (this.#seen.has(key)) return false;
    if (this.#seen.size >= MAX_DOCUMENTS) {
      throw new WsdlError(`the WSDL imports more than ${MAX_DOCUMENTS} documents`);
    }
    this.#seen.add(key);
    return true;
  }

  async #read(location: Location): Promise<XmlElement> {
    let bytes: Buffer;
    let contentType: string | undefined;
    if (location.kind === 'file') {
      try {
        bytes = await readFile(location.path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        throw new WsdlError(`cannot read ${location.path} (${code})`, { cause: error });
      }
      if (bytes.length > MAX_DOCUMENT_BYTES) {
        throw new WsdlError(`${location.path} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      }
    } else {
      ({ bytes, contentType } = await this.#fetch(location.url));
    }
    try {
      return parseXmlElements(decodeXmlBytes(bytes, contentType));
    } catch (error) {
      throw new WsdlError(`${show(location)}: ${(error as Error).message}`, { cause: error });
    }
  }

  async #fetch(url: URL): Promise<{ bytes: Buffer; contentType: string | undefined }> {
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, { method: 'GET', signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).name;
      throw new WsdlError(`cannot read ${url.href} (${reason})`, { cause: error });
    }
    if (response.statusCode !== 200) {
      response.body.destroy();
      throw new WsdlError(`cannot read ${url.href}: it answered ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_DOCUMENT_BYTES) {
          response.body.destroy();
          throw new WsdlError(`${url.href} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof WsdlError) throw error;
      throw new WsdlError(`cannot read ${url.href} (${(error as Error).name})`, { cause: error });
    }
    const contentType = response.headers['content-type'];
    return {
      bytes: Buffer.concat(chunks),
      contentType: typeof contentType === 'string' ? contentType : undefined,
    };
  }
}

/**
 * Where a reference points: relative to the document naming it (or to the config directory for the
 * config's own wsdl). A document read over HTTP may only name http(s) documents, never local files.
 */
function locate(reference: string, base: Location | undefined, baseDir = '.'): Location {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(reference)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') return { kind: 'url', url: new URL(reference) };
  if (base?.kind === 'url') {
    if (scheme !== undefined) {
      throw new WsdlError(
        `${base.url.href} names "${reference}"; a WSDL read over HTTP may only import http(s) documents`,
      );
    }
    return { kind: 'url', url: new URL(reference, base.url) };
  }
  if (scheme === 'file') return { kind: 'file', path: fileURLToPath(reference) };
  if (scheme !== undefined && scheme.length > 1) {
    throw new WsdlError(`"${reference}" is neither a file path nor an http(s) URL`);
  }
  const dir = base === undefined ? baseDir : path.dirname(base.path);
  return { kind: 'file', path: path.resolve(dir, reference) };
}

function show(location: Location): string {
  return location.kind === 'file' ? location.path : location.url.href;
}

// ---------------------------------------------------------------------------------------------
// Port and operations

interface Definitions {
  readonly messages: Map<string, XmlElement>;
  readonly portTypes: Map<string, XmlElement>;
  readonly bindings: Map<string, XmlElement>;
  readonly services: XmlElement[];
}

function buildPort(documents: readonly XmlElement[], schemas: SchemaSet, choice: PortChoice): WsdlPort {
  const definitions: Definitions = {
    messages: new Map(),
    portTypes: new Map(),
    bindings: new Map(),
    services: [],
  };
  for (const document of documents) {
    const targetNamespace = document.attributes.targetNamespace ?? '';
    for (const child of document.children) {
      if (child.ns !== WSDL_NS) continue;
      const key = `{${targetNamespace}}${child.attributes.name ?? ''}`;
      if (child.local === 'message') definitions.messages.set(key, child);
      else if (child.local === 'portType') definitions.portTypes.set(key, child);
      else if (child.local === 'binding') definitions.bindings.set(key, child);
      else if (child.local === 'service') definitions.services.push(child);
    }
  }

  const candidates: { port: XmlElement; binding: XmlElement; version: SoapVersion }[] = [];
  for (const service of definitions.services) {
    for (const port of service.children) {
      if (port.ns !== WSDL_NS || port.local !== 'port' || port.attributes.binding === undefined) continue;
      const binding = definitions.bindings.get(keyOf(resolveQName(port, port.attributes.binding)));
      if (binding === undefined) continue;
      const version = soapVersionOf(binding);
      if (version !== undefined) candidates.push({ port, binding, version });
    }
  }
  const chosen = candidates.find(
    (candidate) =>
      (choice.port === undefined || candidate.port.attributes.name === choice.port) &&
      (choice.version === undefined || candidate.version === choice.version),
  );
  if (chosen === undefined) {
    const known = candidates.map(
      (candidate) => `${candidate.port.attributes.name} (SOAP ${candidate.version})`,
    );
    const wanted = [
      choice.port === undefined ? '' : `named "${choice.port}"`,
      choice.version === undefined ? '' : `bound to SOAP ${choice.version}`,
    ]
      .filter(Boolean)
      .join(' and ');
    throw new WsdlError(
      `the WSDL has no SOAP port${wanted === '' ? '' : ` ${wanted}`} (ports: ${known.join(', ') || 'none'})`,
    );
  }

  const { port, binding, version } = chosen;
  const bindingNs = version === '1.1' ? SOAP11_BINDING_NS : SOAP12_BINDING_NS;
  const portType = definitions.portTypes.get(keyOf(resolveQName(binding, binding.attributes.type ?? '')));
  if (portType === undefined) {
    throw new WsdlError(
      `the portType "${binding.attributes.type}" of binding "${binding.attributes.name}" is not declared`,
    );
  }
  const bindingStyle = child(binding, bindingNs, 'binding')?.attributes.style ?? 'document';
  const address = child(port, bindingNs, 'address')?.attributes.location;

  const operations = new Map<string, WsdlOperation>();
  const unsupported = new Map<string, string>();
  for (const operation of binding.children) {
    if (operation.ns !== WSDL_NS || operation.local !== 'operation') continue;
    const name = operation.attributes.name;
    if (name === undefined) continue;
    try {
      operations.set(
        name,
        buildOperation(name, operation, portType, bindingNs, bindingStyle, definitions, schemas),
      );
    } catch (error) {
      if (!(error instanceof WsdlError)) throw error;
      unsupported.set(name, error.message);
    }
  }
  return { name: port.attributes.name ?? '', version, address, operations, unsupported };
}

function buildOperation(
  name: string,
  operation: XmlElement,
  portType: XmlElement,
  bindingNs: string,
  bindingStyle: string,
  definitions: Definitions,
  schemas: SchemaSet,
): WsdlOperation {
  const soapOperation = child(operation, bindingNs, 'operation');
  const style = soapOperation?.attributes.style ?? bindingStyle;
  if (style !== 'document' && style !== 'rpc') throw new WsdlError(`style "${style}" is not supported`);
  const abstract = portType.children.find(
    (candidate) =>
      candidate.ns === WSDL_NS && candidate.local === 'operation' && candidate.attributes.name === name,
  );
  if (abstract === undefined) throw new WsdlError(`operation "${name}" is not in the portType`);

  const inputBody = child(child(operation, WSDL_NS, 'input'), bindingNs, 'body');
  const outputBody = child(child(operation, WSDL_NS, 'output'), bindingNs, 'body');
  for (const body of [inputBody, outputBody]) {
    if (body?.attributes.use === 'encoded') {
      throw new WsdlError('use="encoded" (SOAP encoding) is not supported; only literal');
    }
  }
  const inputMessage = message(child(abstract, WSDL_NS, 'input'), definitions);
  if (inputMessage === undefined) throw new WsdlError('the operation has no input message');
  const outputMessage = message(child(abstract, WSDL_NS, 'output'), definitions);

  let input: ElementShape;
  let output: ElementShape | undefined;
  if (style === 'document') {
    input = documentElement(inputMessage, 'input', schemas);
    output = outputMessage === undefined ? undefined : documentElement(outputMessage, 'output', schemas);
  } else {
    const namespace = inputBody?.attributes.namespace ?? '';
    input = rpcElement(name, namespace, inputMessage, schemas);
    output =
      outputMessage === undefined
        ? undefined
        : rpcElement(
            `${name}Response`,
            outputBody?.attributes.namespace ?? namespace,
            outputMessage,
            schemas,
          );
  }
  schemas.complete(input);
  if (output !== undefined) schemas.complete(output);
  const documentation = child(abstract, WSDL_NS, 'documentation')?.text;
  return {
    name,
    soapAction: soapOperation?.attributes.soapAction ?? '',
    style,
    input,
    output,
    documentation: documentation === '' ? undefined : documentation,
  };
}

/** The one element part of a document/literal message. */
function documentElement(message: XmlElement, what: string, schemas: SchemaSet): ElementShape {
  const parts = message.children.filter((part) => part.ns === WSDL_NS && part.local === 'part');
  if (parts.length !== 1 || parts[0]!.attributes.element === undefined) {
    throw new WsdlError(
      `the ${what} message "${message.attributes.name}" must have exactly one part with an element (document/literal)`,
    );
  }
  const part = parts[0]!;
  return schemas.globalElement(resolveQName(part, part.attributes.element!));
}

/** The operation element of rpc/literal: one unqualified child per part, typed by the part. */
function rpcElement(name: string, namespace: string, message: XmlElement, schemas: SchemaSet): ElementShape {
  const type = new TypeShape();
  type.children = new Map();
  for (const part of message.children) {
    if (part.ns !== WSDL_NS || part.local !== 'part' || part.attributes.name === undefined) continue;
    const element =
      part.attributes.element !== undefined
        ? schemas.globalElement(resolveQName(part, part.attributes.element))
        : schemas.partElement(
            part.attributes.name,
            resolveQName(part, part.attributes.type ?? 'xsd:anyType'),
          );
    type.elements.push(element);
    type.children.set(element.local, element);
  }
  type.complex = type.elements.length > 0;
  return new ElementShape(name, namespace, false, false, type);
}

function message(reference: XmlElement | undefined, definitions: Definitions): XmlElement | undefined {
  const name = reference?.attributes.message;
  if (reference === undefined || name === undefined) return undefined;
  const found = definitions.messages.get(keyOf(resolveQName(reference, name)));
  if (found === undefined) throw new WsdlError(`message "${name}" is not declared`);
  return found;
}

function soapVersionOf(binding: XmlElement): SoapVersion | undefined {
  for (const element of binding.children) {
    if (element.local !== 'binding') continue;
    if (element.ns === SOAP11_BINDING_NS) return '1.1';
    if (element.ns === SOAP12_BINDING_NS) return '1.2';
  }
  return undefined;
}

function child(parent: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return parent?.children.find((candidate) => candidate.ns === ns && candidate.local === local);
}

function keyOf(name: QName): string {
  return `{${name.ns}}${name.local}`;
}
