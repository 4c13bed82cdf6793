/**
 * The types flows are checked with: JSON Schemas, as the connectors already describe their
 * operations (SOAP from the XSD, gRPC from the .proto, GraphQL from the schema and selection set,
 * HTTP and XML from a declared output schema) and as endpoints declare their input. `undefined`
 * is `dyn`: a type nobody described, about which nothing is claimed.
 *
 * An object type is closed (reading a field it does not list is a mistake) when it lists its
 * properties and does not allow others (`additionalProperties` absent or false): a WSDL, a .proto
 * and a GraphQL selection set say every field there is.
 *
 * Types built here (a template's object, a list, a union) stay composite — a map of field types,
 * an element type, alternatives — and become one standalone JSON Schema only when asked (embed):
 * typing every expression of a large config copies no schema.
 */

/** A JSON Schema (draft 2020-12) object. */
export type JsonSchema = Record<string, unknown>;

/** A type: a schema and the document its `$ref`s point into, or a composite built here; undefined is dyn. */
export interface SchemaType {
  readonly schema: JsonSchema;
  readonly root: JsonSchema;
  /** An object of these fields: closed (a literal), or open (`steps`: others are dyn). */
  readonly fields?: ReadonlyMap<string, FlowType>;
  readonly open?: boolean;
  /** A list of this element type (undefined: unknown items). */
  readonly list?: true;
  readonly element?: FlowType;
  /** One of these types. */
  readonly alternatives?: readonly SchemaType[];
  /** For a field it does not have: where that name is found instead (request.id → request.params.id). */
  readonly hints?: ReadonlyMap<string, string>;
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

const OBJECT_SCHEMA: JsonSchema = { type: 'object' };
const ARRAY_SCHEMA: JsonSchema = { type: 'array' };
const EMPTY: JsonSchema = {};

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
  if (type === undefined || depth > 8) return [];
  if (type.alternatives !== undefined)
    return type.alternatives.flatMap((option) => variants(option, depth + 1));
  if (type.fields !== undefined || type.list) return [type];
  const resolved = resolve(type);
  if (resolved === undefined) return [];
  const { schema } = resolved;
  const alternatives = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(alternatives)) {
    return alternatives.flatMap((alternative) => variants(within(resolved, alternative), depth + 1));
  }
  if (schema.type === 'null') return [];
  return [resolved];
}

/** Whether some alternative is dyn (a variant list then says nothing certain). */
function hasDyn(type: FlowType, depth = 0): boolean {
  if (type === undefined || depth > 8) return true;
  if (type.alternatives !== undefined) return type.alternatives.some((option) => hasDyn(option, depth + 1));
  return false;
}

/** The JSON types a schema allows ('object', 'array', …); undefined when it does not say. */
function jsonTypes(type: SchemaType): string[] | undefined {
  if (type.fields !== undefined) return ['object'];
  if (type.list) return ['array'];
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
  | {
      readonly found: false;
      readonly known: readonly string[];
      readonly kind: 'object' | 'list' | 'scalar';
      readonly hint?: string | undefined;
    };

/** Reads field `name` of a value of `type`; `found: false` only when every alternative rejects it. */
export function fieldOf(type: FlowType, name: string): FieldLookup {
  if (hasDyn(type)) return { found: true, type: undefined };
  const options = variants(type);
  if (options.length === 0) return { found: true, type: undefined };
  const results: FlowType[] = [];
  const known = new Set<string>();
  let kind: 'object' | 'list' | 'scalar' = 'object';
  let hint: string | undefined;
  for (const option of options) {
    hint ??= option.hints?.get(name);
    if (option.fields !== undefined) {
      if (option.fields.has(name) || option.open) results.push(option.fields.get(name));
      else for (const key of option.fields.keys()) known.add(key);
      continue;
    }
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
  if (results.length === 0) return { found: false, known: [...known], kind, hint };
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
  if (hasDyn(type)) return undefined;
  const items: FlowType[] = [];
  for (const option of variants(type)) {
    if (option.list) items.push(option.element);
    else if (jsonTypes(option)?.includes('array')) items.push(within(option, option.schema.items));
  }
  return items.length === 0 ? undefined : union(items);
}

/** The type of `value[key]` for a key known only at run time: a list's items, or a map's values. */
export function indexedValueOf(type: FlowType): FlowType {
  if (hasDyn(type)) return undefined;
  const options = variants(type);
  if (options.length === 0) return undefined;
  const found: FlowType[] = [];
  for (const option of options) {
    if (option.list) found.push(option.element);
    else if (option.fields !== undefined) {
      if (option.open || option.fields.size === 0) return undefined;
      found.push(...option.fields.values());
    } else {
      const types = jsonTypes(option);
      if (types?.includes('array')) found.push(within(option, option.schema.items));
      else if (types?.length === 1 && types[0] === 'object') {
        const properties = Object.values(
          (option.schema.properties as Record<string, unknown> | undefined) ?? {},
        );
        const additional = option.schema.additionalProperties;
        if (additional !== undefined && additional !== false) {
          found.push(isSchema(additional) ? within(option, additional) : undefined);
        }
        for (const property of properties) found.push(within(option, property));
        if (properties.length === 0 && (additional === undefined || additional === false)) return undefined;
      } else return undefined;
    }
  }
  return union(found);
}

/** One type for several: the single one, or one of them; dyn when any is dyn. */
export function union(types: readonly FlowType[]): FlowType {
  if (types.length === 0 || types.some((type) => type === undefined)) return undefined;
  const unique = [...new Set(types as SchemaType[])];
  if (unique.length === 1) return unique[0];
  return { schema: EMPTY, root: EMPTY, alternatives: unique };
}

/** A list of items of a type. */
export function listOf(item: FlowType): SchemaType {
  return { schema: ARRAY_SCHEMA, root: EMPTY, list: true, element: item };
}

/** An object with these fields (closed: it has no others). */
export function objectOf(fields: ReadonlyMap<string, FlowType>): SchemaType {
  return { schema: OBJECT_SCHEMA, root: EMPTY, fields };
}

/** An object with these fields and any others (dyn). */
export function openObjectOf(fields: ReadonlyMap<string, FlowType>): SchemaType {
  return { schema: OBJECT_SCHEMA, root: EMPTY, fields, open: true };
}

/**
 * A type as a standalone schema: its `$ref`s are resolved inline (recursion is cut with {}), so
 * it can be placed in another document (an OpenAPI response).
 */
export function embed(type: FlowType, seen: Set<unknown> = new Set(), depth = 0): JsonSchema {
  if (type === undefined || depth > 24) return {};
  if (type.alternatives !== undefined) {
    const byText = new Map<string, JsonSchema>();
    for (const option of type.alternatives) {
      const schema = embed(option, seen, depth + 1);
      if (Object.keys(schema).length === 0) return {};
      byText.set(JSON.stringify(schema), schema);
    }
    const schemas = [...byText.values()];
    return schemas.length === 1 ? schemas[0]! : { anyOf: schemas };
  }
  if (type.list) return { type: 'array', items: embed(type.element, seen, depth + 1) };
  if (type.fields !== undefined) {
    if (type.open) return { type: 'object' };
    const properties: JsonSchema = {};
    for (const [key, field] of type.fields) properties[key] = embed(field, seen, depth + 1);
    return { type: 'object', properties, required: [...type.fields.keys()] };
  }
  return withoutRefs(type, seen);
}

function withoutRefs(type: SchemaType, seen: Set<unknown>): JsonSchema {
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

const WHOLE_EXPRESSION = /^\s*\{\{[\s\S]*\}\}\s*$/;

/**
 * The schema of what a template builds, from its literal parts alone (no scope known): a
 * `"{{ expression }}"` leaf is any value, a string with `{{ }}` inside is a string. For answers
 * written as templates (the mock connector).
 */
export function literalTemplateSchema(template: unknown): JsonSchema {
  const walk = (value: unknown, depth: number): FlowType => {
    if (depth > 32) return undefined;
    if (typeof value === 'string') {
      if (!value.includes('{{')) return STRING;
      return WHOLE_EXPRESSION.test(value) && value.indexOf('{{') === value.lastIndexOf('{{')
        ? undefined
        : STRING;
    }
    if (Array.isArray(value))
      return listOf(value.length === 0 ? undefined : union(value.map((item) => walk(item, depth + 1))));
    if (typeof value === 'object' && value !== null) {
      return objectOf(new Map(Object.entries(value).map(([key, child]) => [key, walk(child, depth + 1)])));
    }
    return typeOfValue(value);
  };
  return embed(walk(template, 0));
}
