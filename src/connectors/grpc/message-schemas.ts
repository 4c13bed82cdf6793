/**
 * JSON Schemas of protobuf messages as the connector reads and answers them, for describe() (the
 * portal, load-time checks). Built once at load from the descriptors @grpc/proto-loader keeps
 * for each type. Those descriptors carry type names as written in the .proto (relative to the
 * message's scope), so names are resolved here by protobuf's scoping rules.
 *
 * The schemas follow the loader options the connector uses: 64-bit integers and bytes as strings
 * (decimal and base64), enums by name, message fields null when unset, each oneof as an extra
 * string property naming the field that is set.
 */
import type { EnumTypeDefinition, MessageTypeDefinition, PackageDefinition } from '@grpc/proto-loader';

/** A JSON Schema (draft 2020-12) object. */
export type JsonSchema = Record<string, unknown>;

/** The parts of a google.protobuf.FieldDescriptorProto (as proto-loader gives it) read here. */
interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}

/** The parts of a google.protobuf.DescriptorProto read here. */
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  oneofDecl: { name: string }[];
  options: { mapEntry?: boolean } | null;
}

interface EnumDescriptor {
  value: { name: string }[];
}

const SCALARS: Readonly<Record<string, JsonSchema>> = {
  TYPE_DOUBLE: { type: 'number' },
  TYPE_FLOAT: { type: 'number' },
  TYPE_INT32: { type: 'integer' },
  TYPE_SINT32: { type: 'integer' },
  TYPE_SFIXED32: { type: 'integer' },
  TYPE_UINT32: { type: 'integer', minimum: 0 },
  TYPE_FIXED32: { type: 'integer', minimum: 0 },
  // Longs are strings so no precision is lost (as in the proto3 JSON mapping).
  TYPE_INT64: { type: 'string', format: 'int64' },
  TYPE_SINT64: { type: 'string', format: 'int64' },
  TYPE_SFIXED64: { type: 'string', format: 'int64' },
  TYPE_UINT64: { type: 'string', format: 'uint64' },
  TYPE_FIXED64: { type: 'string', format: 'uint64' },
  TYPE_BOOL: { type: 'boolean' },
  TYPE_STRING: { type: 'string' },
  TYPE_BYTES: { type: 'string', contentEncoding: 'base64' },
};

/** Builds message schemas over one package definition, sharing their $defs. */
export class MessageSchemas {
  readonly #definition: PackageDefinition;

  constructor(definition: PackageDefinition) {
    this.#definition = definition;
  }

  /** The schema of a message type, by its fully qualified name, with the types it uses in $defs. */
  schemaOf(typeName: string): JsonSchema {
    const defs: Record<string, JsonSchema> = {};
    const ref = this.#messageRef(typeName, defs);
    return { ...ref, $defs: defs };
  }

  #messageRef(fullName: string, defs: Record<string, JsonSchema>): JsonSchema {
    if (defs[fullName] === undefined) {
      const descriptor = this.#message(fullName);
      if (descriptor === undefined) return { description: `message ${fullName}` };
      const definition: JsonSchema = { type: 'object', title: fullName };
      defs[fullName] = definition; // before the fields: messages may contain themselves
      definition.properties = this.#properties(fullName, descriptor, defs);
      definition.additionalProperties = false;
    }
    return { $ref: `#/$defs/${fullName}` };
  }

  #properties(
    scope: string,
    descriptor: MessageDescriptor,
    defs: Record<string, JsonSchema>,
  ): Record<string, JsonSchema> {
    const properties: Record<string, JsonSchema> = {};
    for (const field of descriptor.field) {
      const mapEntry =
        field.type === 'TYPE_MESSAGE'
          ? descriptor.nestedType.find((nested) => nested.name === field.typeName && nested.options?.mapEntry)
          : undefined;
      if (mapEntry !== undefined) {
        const value = mapEntry.field.find((entryField) => entryField.name === 'value');
        properties[field.name] = {
          type: 'object',
          additionalProperties: value === undefined ? {} : this.#single(scope, value, defs),
        };
      } else if (field.label === 'LABEL_REPEATED') {
        properties[field.name] = { type: 'array', items: this.#single(scope, field, defs) };
      } else {
        const single = this.#single(scope, field, defs);
        // Unset message fields read as null; scalars read as their default value.
        properties[field.name] =
          field.type === 'TYPE_MESSAGE' ? { anyOf: [single, { type: 'null' }] } : single;
      }
    }
    for (const oneof of descriptor.oneofDecl) {
      properties[oneof.name] ??= {
        type: 'string',
        description: `the field of oneof ${oneof.name} that is set`,
      };
    }
    return properties;
  }

  #single(scope: string, field: FieldDescriptor, defs: Record<string, JsonSchema>): JsonSchema {
    const scalar = SCALARS[field.type];
    if (scalar !== undefined) return { ...scalar };
    const fullName = this.#resolve(scope, field.typeName);
    if (field.type === 'TYPE_ENUM') {
      const descriptor =
        fullName === undefined
          ? undefined
          : ((this.#definition[fullName] as EnumTypeDefinition | undefined)?.type as
              | EnumDescriptor
              | undefined);
      return descriptor === undefined
        ? { type: 'string' }
        : { type: 'string', enum: descriptor.value.map((value) => value.name) };
    }
    if (fullName === undefined) return { description: `message ${field.typeName}` };
    return this.#messageRef(fullName, defs);
  }

  /** Resolves a type name as written in the scope of a message, innermost scope first. */
  #resolve(scope: string, typeName: string): string | undefined {
    if (typeName.startsWith('.')) return typeName.slice(1);
    const parts = scope.split('.');
    for (let length = parts.length; length >= 0; length--) {
      const candidate = [...parts.slice(0, length), typeName].join('.');
      if (this.#definition[candidate] !== undefined) return candidate;
    }
    return undefined;
  }

  #message(fullName: string): MessageDescriptor | undefined {
    const entry = this.#definition[fullName] as MessageTypeDefinition<object, object> | undefined;
    if (entry === undefined || entry.format !== 'Protocol Buffer 3 DescriptorProto') return undefined;
    return entry.type as MessageDescriptor;
  }
}
