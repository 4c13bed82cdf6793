/**
 * The types flows are checked with: JSON Schemas, as the connectors already describe their
 * operations (SOAP from the XSD, gRPC from the .proto, GraphQL from the schema and selection set,
 * HTTP and XML from a declared output schema) and as endpoints declare their input. `undefined`
 * is `dyn`: a type nobody described, about which nothing is claimed.
 *
 * An object type is closed (reading a field it does not list is a mistake) when it lists its
 * properties and does not allow others (`additionalProperties` absent or false): a WSDL, a .proto
 * and a GraphQL selection set say every field there is.
 */

/** A JSON Schema (draft 2020-12) object. */
export type JsonSchema = Record<string, unknown>;

/** A type: a schema and the document its `$ref`s point into; undefined is dyn. */
export interface SchemaType {
  readonly schema: JsonSchema;
  readonly root: JsonSchema;
  /** An open record of known field types (`steps`): built without copying schemas together. */
  readonly fields?: ReadonlyMap<string, FlowType>;
}
export type FlowType = SchemaType | undefined;

/** A type from a schema that is its own document (its `$defs` at the top). */
export function typeOf(schema: JsonSchema | undefined): FlowType {
  if (schema === undefined || schema === null || typeof schema !== 'object') return undefined;
  return { schema, root: schema };
}

/** A type made of a schema inside an existing document. */
export function within(parent: SchemaType, schema: unknown): FlowType {
  return isSchema(schema) ? { schema, root: parent.root } : undefined;
}

export const STRING: SchemaType = typeOf({ type: 'string' })!;
export const NUMBER: SchemaType = typeOf({ type: 'number' })!;
export const INTEGER: SchemaType = typeOf({ type: 'integer' })!;
export const BOOLEAN: SchemaType = typeOf({ type: 'boolean' })!;
export const NULL: SchemaType = typeOf({ type: 'null' })!;

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows `$ref`s (JSON pointers into the same document); dyn when one cannot be followed. */
export function resolve(type: FlowType): FlowType {
  let current = type;
  for (let hops = 0; current !== undefined && typeof current.schema.$ref === 'string'; hops++) {
    if (hops > 32) return undefined;
    const ref = current.schema.$ref as string;
    if (!ref.startsWith('#')) return undefined;
    let target: unknown = current.root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~');
      target = isSchema(target) ? target[key] : undefined;
    }
    current = isSchema(target) ? { schema: target, root: current.root } : undefined;
  }
  return current;
}

/** The alternatives of a type (anyOf/oneOf flattened, null left out); [] for dyn. */
export function variants(type: FlowType, depth = 0): SchemaType[] {
  const resolved = resolve(type);
  if (resolved === undefined || depth > 8) return [];
  const { schema } = resolved;
  const alternatives = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(alternatives)) {
    return alternatives.flatMap((alternative) => variants(within(resolved, alternative), depth + 1));
  }
  if (schema.type === 'null') return [];
  return [resolved];
}

/** The JSON types a schema allows ('object', 'array', …); undefined when it does not say. */
function jsonTypes(type: SchemaType): string[] | undefined {
  const declared = type.schema.type;
  if (typeof declared === 'string') return [declared];
  if (Array.isArray(declared)) return declared.filter((entry): entry is string => typeof entry === 'string');
  if (isSchema(type.schema.properties) || type.schema.additionalProperties !== undefined) return ['object'];
  if (type.schema.items !== undefined) return ['array'];
  return undefined;
}

/** What reading a field of a type gives. */
export type FieldLookup =
  | { readonly found: true; readonly type: FlowType }
  | { readonly found: false; readonly known: readonly string[]; readonly kind: 'object' | 'list' | 'scalar' };

/** Reads field `name` of a value of `type`; `found: false` only when every alternative rejects it. */
export function fieldOf(type: FlowType, name: string): FieldLookup {
  if (type?.fields !== undefined) return { found: true, type: type.fields.get(name) };
  const options = variants(type);
  if (options.length === 0) return { found: true, type: undefined };
  const results: FlowType[] = [];
  const known = new Set<string>();
  let kind: 'object' | 'list' | 'scalar' = 'object';
  for (const option of options) {
    const types = jsonTypes(option);
    if (types === undefined || (types.includes('object') && !isClosedOnly(option, types))) {
      results.push(openField(option, name));
      continue;
    }
    if (!types.includes('object')) {
      kind = types.includes('array') ? 'list' : 'scalar';
      continue;
    }
    const properties = option.schema.properties as Record<string, unknown> | undefined;
    if (properties !== undefined && Object.hasOwn(properties, name)) {
      results.push(within(option, properties[name]));
      continue;
    }
    for (const key of Object.keys(properties ?? {})) known.add(key);
  }
  if (results.length === 0) return { found: false, known: [...known], kind };
  return { found: true, type: union(results) };
}

/** Whether an object alternative lists its properties and allows no others. */
function isClosedOnly(option: SchemaType, types: string[]): boolean {
  const { schema } = option;
  if (types.length > 1 && types.some((entry) => entry !== 'object' && entry !== 'null')) return false;
  if (!isSchema(schema.properties)) return false;
  if (schema.patternProperties !== undefined || schema.allOf !== undefined) return false;
  return schema.additionalProperties === undefined || schema.additionalProperties === false;
}

function openField(option: SchemaType, name: string): FlowType {
  const properties = option.schema.properties as Record<string, unknown> | undefined;
  if (properties !== undefined && Object.hasOwn(properties, name)) return within(option, properties[name]);
  const additional = option.schema.additionalProperties;
  return isSchema(additional) ? within(option, additional) : undefined;
}

/** The type of the items of a list type; dyn when unknown. */
export function elementOf(type: FlowType): FlowType {
  const options = variants(type);
  const items = options.flatMap((option) => {
    const types = jsonTypes(option);
    return types?.includes('array') ? [within(option, option.schema.items)] : [];
  });
  return items.length === 0 ? undefined : union(items);
}

/** One type for several: the single one, or anyOf of them; dyn when any is dyn. */
export function union(types: readonly FlowType[]): FlowType {
  if (types.length === 0 || types.some((type) => type === undefined)) return undefined;
  const byText = new Map<string, JsonSchema>();
  for (const type of new Set(types)) {
    const schema = embed(type!);
    byText.set(JSON.stringify(schema), schema);
  }
  if (byText.size === 1) return types[0];
  return { schema: { anyOf: [...byText.values()] }, root: {} };
}

/** A list of items of a type. */
export function listOf(item: FlowType): SchemaType {
  return { schema: { type: 'array', items: item === undefined ? {} : embed(item) }, root: {} };
}

/** An object with these fields (closed: it has no others). */
export function objectOf(fields: ReadonlyMap<string, FlowType>): SchemaType {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, type] of fields) properties[key] = type === undefined ? {} : embed(type);
  return { schema: { type: 'object', properties, required: [...fields.keys()] }, root: {} };
}

/**
 * A type as a standalone schema: its `$ref`s are resolved inline (recursion is cut with {}), so
 * it can be placed in another document (an OpenAPI response).
 */
export function embed(type: SchemaType, seen: Set<JsonSchema> = new Set()): JsonSchema {
  return withoutRefs(type, seen);
}

function withoutRefs(type: SchemaType, seen: Set<JsonSchema>): JsonSchema {
  if (type.fields !== undefined) return { type: 'object' };
  const resolved = resolve(type);
  if (resolved === undefined) return {};
  if (seen.has(resolved.schema) || seen.size > 24) return {};
  seen.add(resolved.schema);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(resolved.schema)) {
    if (key === '$defs' || key === 'definitions' || key === '$ref') continue;
    if (key === 'properties' && isSchema(value)) {
      const properties: JsonSchema = {};
      for (const [name, child] of Object.entries(value)) {
        properties[name] = isSchema(child)
          ? withoutRefs({ schema: child, root: resolved.root }, seen)
          : child;
      }
      out[key] = properties;
    } else if ((key === 'items' || key === 'additionalProperties') && isSchema(value)) {
      out[key] = withoutRefs({ schema: value, root: resolved.root }, seen);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((child) =>
        isSchema(child) ? withoutRefs({ schema: child, root: resolved.root }, seen) : child,
      );
    } else out[key] = value;
  }
  seen.delete(resolved.schema);
  return out;
}

/** The type of a literal JSON value (objects closed: a literal says every field it has). */
export function typeOfValue(value: unknown, depth = 0): SchemaType {
  if (value === null || value === undefined) return NULL;
  if (typeof value === 'string') return STRING;
  if (typeof value === 'boolean') return BOOLEAN;
  if (typeof value === 'number') return Number.isInteger(value) ? INTEGER : NUMBER;
  if (Array.isArray(value)) {
    if (depth > 16 || value.length === 0) return listOf(undefined);
    return listOf(union(value.map((item) => typeOfValue(item, depth + 1))));
  }
  if (typeof value === 'object' && depth <= 16) {
    return objectOf(
      new Map(Object.entries(value).map(([key, child]) => [key, typeOfValue(child, depth + 1)])),
    );
  }
  return typeOf({})!;
}

/** The type of `value[key]` for a key known only at run time: a list's items, or a map's values. */
export function indexedValueOf(type: FlowType): FlowType {
  const options = variants(type);
  if (options.length === 0) return undefined;
  const found: FlowType[] = [];
  for (const option of options) {
    const types = jsonTypes(option);
    if (types?.includes('array')) found.push(within(option, option.schema.items));
    else if (types?.length === 1 && types[0] === 'object') {
      const properties = Object.values(
        (option.schema.properties as Record<string, unknown> | undefined) ?? {},
      );
      const additional = option.schema.additionalProperties;
      if (additional !== undefined && additional !== false)
        found.push(isSchema(additional) ? within(option, additional) : undefined);
      for (const property of properties) found.push(within(option, property));
      if (properties.length === 0 && (additional === undefined || additional === false)) return undefined;
    } else return undefined;
  }
  return union(found);
}
