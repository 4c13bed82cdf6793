/**
 * Shapes give the JSON form of a parsed document what the XML alone cannot say: which elements
 * repeat (always arrays, even with one occurrence) and which values are numbers or booleans. A
 * SOAP service's shapes come from its XSD; a plain XML operation's from its `arrays`, `numbers`
 * and `booleans` paths. Applying a shape visits only the parts of the document it describes.
 */
import { ATTRIBUTE_PREFIX, TEXT_KEY, XmlDecodeError } from './parse.ts';

/** The JSON type a text value becomes. */
export type ValueType = 'string' | 'integer' | 'number' | 'boolean';

/** What is known about an element (or attribute) of a document; shapes may be cyclic (recursive XSD types). */
export interface ShapeNode {
  /** Always an array, even when the element occurs once (or not at all, when its parent is there). */
  readonly repeated: boolean;
  /** The type of the element's text (its value, or its "#text" when it has attributes). */
  readonly valueType: ValueType | undefined;
  /** The element has child elements or attributes: an empty one reads as {} rather than "". */
  readonly complex: boolean;
  /** An element marked xsi:nil="true" (read as "@nil") is null: SOAP answers, whose XSD gives xsi its meaning. */
  readonly readsNil: boolean;
  /** Shapes of children, by JSON key: the local name, or "@" + name for attributes. */
  readonly children: ReadonlyMap<string, ShapeNode> | undefined;
  /** The shape of children not named in `children` (a "*" path segment). */
  readonly anyChild: ShapeNode | undefined;
}

/** How text values are converted beyond what the shape types. */
export interface ShapeOptions {
  /** Every text value that reads as a number or a boolean becomes one (plain XML's parseValues). */
  readonly parseValues: boolean;
}

const NO_OPTIONS: ShapeOptions = { parseValues: false };
const NIL_KEY = `${ATTRIBUTE_PREFIX}nil`;

/**
 * Applies a shape to the JSON form of an element's content, in place, and returns the result (which
 * differs from the argument only for text values). `path` names the element in error messages.
 */
export function applyShape(
  value: unknown,
  shape: ShapeNode,
  path: string,
  options: ShapeOptions = NO_OPTIONS,
): unknown {
  return shapeOne(value, shape, path, options);
}

function shapeChild(value: unknown, shape: ShapeNode, path: string, options: ShapeOptions): unknown {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      value[index] = shapeOne(value[index], shape, path, options);
    }
    return value;
  }
  const one = shapeOne(value, shape, path, options);
  return shape.repeated ? [one] : one;
}

function shapeOne(value: unknown, shape: ShapeNode, path: string, options: ShapeOptions): unknown {
  if (typeof value === 'string') {
    if (value === '' && shape.complex) return {};
    return shape.valueType === undefined
      ? options.parseValues
        ? guessValue(value)
        : value
      : convert(value, shape.valueType, path);
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const nil = record[NIL_KEY];
  if ((nil === 'true' || nil === '1') && shape.readsNil) return null;
  const children = shape.children;
  for (const key of Object.keys(record)) {
    const child = record[key];
    if (key === TEXT_KEY) {
      if (typeof child === 'string') {
        record[key] =
          shape.valueType === undefined
            ? options.parseValues
              ? guessValue(child)
              : child
            : convert(child, shape.valueType, path);
      }
      continue;
    }
    const childShape = children?.get(key) ?? shape.anyChild;
    if (childShape !== undefined) {
      record[key] = shapeChild(child, childShape, path === '' ? key : `${path}.${key}`, options);
    } else if (options.parseValues) {
      record[key] = parseAll(child);
    }
  }
  // A repeated child that is absent is still absent: an empty array would claim the element was
  // sent empty. Flows test presence with has().
  return record;
}

/** Converts every value of an unshaped subtree with guessValue (parseValues). */
function parseAll(value: unknown): unknown {
  if (typeof value === 'string') return guessValue(value);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = parseAll(value[index]);
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = parseAll(record[key]);
  }
  return value;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** What parseValues turns into a number: no leading zeros (zip codes, ids stay strings), no "+", no exponent. */
const PLAIN_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** A text value as the XSD type says; integers beyond 2^53 stay strings, since JSON numbers would round them. */
function convert(text: string, type: ValueType, path: string): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      if (text === '') return null;
      throw new XmlDecodeError(`${path} is "${clip(text)}", not a boolean`);
    case 'integer': {
      if (text === '') return null;
      if (!INTEGER.test(text)) throw new XmlDecodeError(`${path} is "${clip(text)}", not an integer`);
      const number = Number(text);
      return Number.isSafeInteger(number) ? number : text;
    }
    case 'number': {
      if (text === '') return null;
      // INF, -INF and NaN are valid XSD doubles with no JSON number: they stay strings.
      if (text === 'INF' || text === '-INF' || text === 'NaN') return text;
      if (!DECIMAL.test(text)) throw new XmlDecodeError(`${path} is "${clip(text)}", not a number`);
      return Number(text);
    }
  }
}

function guessValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (PLAIN_NUMBER.test(text)) {
    const number = Number(text);
    if (INTEGER.test(text) ? Number.isSafeInteger(number) : Number.isFinite(number)) return number;
  }
  return text;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A shape under construction from paths. */
interface PathShape {
  repeated: boolean;
  valueType: ValueType | undefined;
  complex: boolean;
  readsNil: boolean;
  children: Map<string, PathShape> | undefined;
  anyChild: PathShape | undefined;
}

/** The element paths a plain XML operation declares, dot-separated from the root element; "*" matches any one name. */
export interface ShapePaths {
  readonly arrays?: readonly string[] | undefined;
  readonly numbers?: readonly string[] | undefined;
  readonly booleans?: readonly string[] | undefined;
}

/** Builds the shape of a whole document from paths such as "rss.channel.item" or "feed.entry.@id". */
export function shapeFromPaths(paths: ShapePaths): ShapeNode {
  const root = emptyPathShape();
  const at = (path: string): PathShape => {
    let node = root;
    for (const segment of path.split('.')) {
      if (segment === '*') {
        node.anyChild ??= emptyPathShape();
        node = node.anyChild;
      } else {
        node.children ??= new Map();
        let child = node.children.get(segment);
        if (child === undefined) {
          child = emptyPathShape();
          node.children.set(segment, child);
        }
        node = child;
      }
    }
    return node;
  };
  for (const path of paths.arrays ?? []) at(path).repeated = true;
  for (const path of paths.numbers ?? []) at(path).valueType = 'number';
  for (const path of paths.booleans ?? []) at(path).valueType = 'boolean';
  return root;
}

const XML_NAME = /^[\p{L}_][\p{L}\p{N}_.\-\u00B7]*$/u;

/** Checks a path of shapeFromPaths; returns what is wrong, or undefined. */
export function checkShapePath(path: string): string | undefined {
  const segments = path.split('.');
  for (const segment of segments) {
    if (segment === '*') continue;
    const name = segment.startsWith(ATTRIBUTE_PREFIX) ? segment.slice(1) : segment;
    if (!XML_NAME.test(name)) {
      return `"${path}" is not a path of element names separated by "." (e.g. "rss.channel.item"; "@name" for an attribute, "*" for any element)`;
    }
  }
  const last = segments.at(-1)!;
  if (segments.slice(0, -1).some((segment) => segment.startsWith(ATTRIBUTE_PREFIX))) {
    return `"${path}": only the last segment may be an attribute ("@${last}")`;
  }
  return undefined;
}

function emptyPathShape(): PathShape {
  return {
    repeated: false,
    valueType: undefined,
    complex: false,
    readsNil: false,
    children: undefined,
    anyChild: undefined,
  };
}
