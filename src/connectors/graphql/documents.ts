/**
 * GraphQL documents at load time: parsing and the checks that need no server, validation against
 * an introspected schema, and the JSON Schemas of an operation's variables and data that
 * describe() gives the portal. Everything here runs once per config load, never per call.
 */
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInputType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type ListTypeNode,
  type NamedTypeNode,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type TypeNode,
  validate,
} from 'graphql';

/** A JSON Schema (draft 2020-12) object. */
export type JsonSchema = Record<string, unknown>;

/** A parsed document and the one operation of it that runs. */
export interface ParsedDocument {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly operationType: 'query' | 'mutation';
  /** The name sent as operationName, when the operation has one. */
  readonly operationName: string | undefined;
}

/** Why a document cannot be used, and whether the document or the operationName is at fault. */
export interface DocumentProblem {
  readonly problem: string;
  readonly at: 'document' | 'operationName';
}

/**
 * Parses a document and picks the operation that runs, or says what is wrong. `where` names the
 * source in messages: "the query" or the file path.
 */
export function parseDocument(
  source: string,
  operationName: string | undefined,
  where: string,
): ParsedDocument | DocumentProblem {
  let document: DocumentNode;
  try {
    document = parse(source, { noLocation: false });
  } catch (error) {
    const problem =
      error instanceof GraphQLError
        ? describeGraphqlError(error, where)
        : `${where} cannot be parsed: ${(error as Error).message}`;
    return { problem, at: 'document' };
  }
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
    else if (definition.kind !== Kind.FRAGMENT_DEFINITION) {
      return {
        problem: `${where} may hold only operations and fragments, not a ${definition.kind}`,
        at: 'document',
      };
    }
  }
  let operation: OperationDefinitionNode | undefined;
  if (operationName !== undefined) {
    operation = operations.find((candidate) => candidate.name?.value === operationName);
    if (operation === undefined) {
      const names = operations.map((candidate) => candidate.name?.value ?? '(anonymous)');
      return {
        problem: `${where} has no operation named "${operationName}" (operations: ${names.join(', ') || 'none'})`,
        at: 'operationName',
      };
    }
  } else if (operations.length === 1) {
    operation = operations[0]!;
  } else {
    return {
      problem:
        operations.length === 0
          ? `${where} holds no query or mutation`
          : `${where} holds ${operations.length} operations; set operationName to pick one`,
      at: 'document',
    };
  }
  if (operation.operation === 'subscription') {
    return {
      problem: `${where}: subscriptions are not supported; use a query or a mutation`,
      at: 'document',
    };
  }
  return {
    document,
    operation,
    operationType: operation.operation,
    operationName: operation.name?.value,
  };
}

/** The schema validation errors of a document, each with its line and column. */
export function validateDocument(schema: GraphQLSchema, parsed: ParsedDocument, where: string): string[] {
  return validate(schema, parsed.document).map((error) => describeGraphqlError(error, where));
}

function describeGraphqlError(error: GraphQLError, where: string): string {
  const location = error.locations?.[0];
  const at = location === undefined ? '' : ` (line ${location.line}, column ${location.column})`;
  return `${where}${at}: ${error.message}`;
}

// ---------------------------------------------------------------------------------------------
// JSON Schemas for describe()

/** The JSON Schema of `input.variables`: exact types with a schema, the declared shape without. */
export function variablesSchema(parsed: ParsedDocument, schema: GraphQLSchema | undefined): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const definition of parsed.operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    properties[name] = fromTypeNode(definition.type, schema, defs);
    if (definition.type.kind === Kind.NON_NULL_TYPE && definition.defaultValue === undefined) {
      required.push(name);
    }
  }
  const result: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) result.required = required;
  if (Object.keys(defs).length > 0) result.$defs = defs;
  return result;
}

/** The JSON Schema of the `data` an operation answers, from its selections; needs the schema. */
export function dataSchema(parsed: ParsedDocument, schema: GraphQLSchema): JsonSchema | undefined {
  const root =
    parsed.operationType === 'query' ? schema.getQueryType() : (schema.getMutationType() ?? undefined);
  if (root === undefined || root === null) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of parsed.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return selectionSchema(root, parsed.operation.selectionSet, schema, fragments);
}

function fromTypeNode(node: TypeNode, schema: GraphQLSchema | undefined, defs: Record<string, JsonSchema>) {
  if (node.kind === Kind.NON_NULL_TYPE) return strictTypeNode(node.type, schema, defs);
  return nullable(strictTypeNode(node, schema, defs));
}

function strictTypeNode(
  node: ListTypeNode | NamedTypeNode,
  schema: GraphQLSchema | undefined,
  defs: Record<string, JsonSchema>,
): JsonSchema {
  if (node.kind === Kind.LIST_TYPE) return { type: 'array', items: fromTypeNode(node.type, schema, defs) };
  const named = schema?.getType(node.name.value);
  if (named === undefined || named === null || !isInputType(named)) return scalarSchema(node.name.value);
  return strictInputType(named, defs);
}

function fromInputType(type: GraphQLInputType, defs: Record<string, JsonSchema>): JsonSchema {
  if (isNonNullType(type)) return strictInputType(type.ofType, defs);
  return nullable(strictInputType(type, defs));
}

function strictInputType(type: GraphQLInputType, defs: Record<string, JsonSchema>): JsonSchema {
  if (isNonNullType(type)) return strictInputType(type.ofType, defs);
  if (isListType(type)) return { type: 'array', items: fromInputType(type.ofType, defs) };
  if (isEnumType(type)) return { type: 'string', enum: type.getValues().map((value) => value.name) };
  if (isInputObjectType(type)) {
    // Input objects may refer to themselves, so each is defined once under $defs and referenced.
    if (defs[type.name] === undefined) {
      const definition: JsonSchema = { type: 'object' };
      defs[type.name] = definition;
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const field of Object.values(type.getFields())) {
        properties[field.name] = fromInputType(field.type, defs);
        if (isNonNullType(field.type) && field.defaultValue === undefined) required.push(field.name);
      }
      definition.properties = properties;
      definition.additionalProperties = false;
      if (required.length > 0) definition.required = required;
    }
    return { $ref: `#/$defs/${type.name}` };
  }
  return scalarSchema(type.name);
}

function fromOutputType(
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  schema: GraphQLSchema,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): JsonSchema {
  if (isNonNullType(type)) return strictOutputType(type.ofType, selectionSet, schema, fragments);
  return nullable(strictOutputType(type, selectionSet, schema, fragments));
}

function strictOutputType(
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  schema: GraphQLSchema,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): JsonSchema {
  if (isNonNullType(type)) return strictOutputType(type.ofType, selectionSet, schema, fragments);
  if (isListType(type)) {
    return { type: 'array', items: fromOutputType(type.ofType, selectionSet, schema, fragments) };
  }
  if (isEnumType(type)) return { type: 'string', enum: type.getValues().map((value) => value.name) };
  if (isScalarType(type) || selectionSet === undefined) return scalarSchema(getNamedType(type).name);
  return selectionSchema(type, selectionSet, schema, fragments);
}

/**
 * The object a selection set answers. Fields under a type condition other than the parent's, or
 * under @include/@skip, may be absent, so only unconditional non-null fields are required.
 */
function selectionSchema(
  parent: GraphQLNamedType,
  selectionSet: SelectionSetNode,
  schema: GraphQLSchema,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  properties: Record<string, JsonSchema> = {},
  required: Set<string> = new Set(),
  conditional = false,
): JsonSchema {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const name = selection.name.value;
      if (name === '__typename') {
        properties[key] = { type: 'string' };
        if (!conditional && (selection.directives?.length ?? 0) === 0) required.add(key);
        continue;
      }
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      if (field === undefined) {
        properties[key] ??= {};
        continue;
      }
      properties[key] = fromOutputType(field.type, selection.selectionSet, schema, fragments);
      if (!conditional && isNonNullType(field.type) && (selection.directives?.length ?? 0) === 0) {
        required.add(key);
      }
      continue;
    }
    const fragment =
      selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
    if (fragment === undefined) continue;
    const condition = fragment.typeCondition?.name.value;
    const target = condition === undefined ? parent : schema.getType(condition);
    if (target === undefined || target === null) continue;
    const narrower =
      conditional ||
      (selection.directives?.length ?? 0) > 0 ||
      (condition !== undefined && condition !== parent.name) ||
      isAbstractType(parent);
    selectionSchema(target, fragment.selectionSet, schema, fragments, properties, required, narrower);
  }
  const result: JsonSchema = { type: 'object', properties };
  if (required.size > 0) result.required = [...required];
  return result;
}

/** Built-in scalars map to JSON types; custom scalars may be anything. */
function scalarSchema(name: string): JsonSchema {
  switch (name) {
    case 'Int':
      return { type: 'integer' };
    case 'Float':
      return { type: 'number' };
    case 'String':
    case 'ID':
      return { type: 'string' };
    case 'Boolean':
      return { type: 'boolean' };
    default:
      return { description: `custom scalar ${name}` };
  }
}

function nullable(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string') {
    const result: JsonSchema = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum)) result.enum = [...schema.enum, null];
    return result;
  }
  if (schema.type === undefined && schema.$ref === undefined) return schema; // already any value
  return { anyOf: [schema, { type: 'null' }] };
}
