/**
 * The operations of a `grpc` service, compiled once at load: the .proto files loaded
 * (@grpc/proto-loader), the service found in them, each unary method with its serialisers, and
 * the descriptions (with JSON schemas of the messages) the portal and the load-time checks read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  loadSync,
  type MethodDefinition,
  type PackageDefinition,
  type ServiceDefinition,
} from '@grpc/proto-loader';
import type { ConnectorIssue, OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import { fileError } from './grpc-channel.ts';
import { type JsonSchema, MessageSchemas } from './message-schemas.ts';
import type { GrpcOperationConfig, GrpcServiceConfig } from './schema.ts';

/**
 * How messages map to JSON: field names as in the .proto, 64-bit integers as decimal strings
 * (no precision lost), enums by name, bytes as base64, unset fields with their default value,
 * and each oneof as a property naming the field that is set.
 */
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  oneofs: true,
} as const;

type Encode = (message: object) => Buffer;
type Decode = (bytes: Buffer) => object;
type Method = MethodDefinition<object, object>;

/** One method with everything its calls need. */
export interface GrpcOperation {
  readonly name: string;
  /** The HTTP/2 path, /package.Service/Method. */
  readonly path: string;
  readonly encode: Encode;
  readonly decode: Decode;
  readonly requestType: string;
  readonly withMetadata: boolean;
  readonly extras: OperationExtras;
}

/** The compiled operations by name, and their descriptions. */
export interface GrpcOperations {
  readonly operations: ReadonlyMap<string, GrpcOperation>;
  readonly descriptions: readonly OperationDescription[];
}

/**
 * Loads the .proto files and compiles the declared operations (or, when none are declared, every
 * unary method of the service); problems go to `issues`.
 */
export function loadOperations(
  config: GrpcServiceConfig,
  baseDir: string,
  service: string,
  issues: ConnectorIssue[],
): GrpcOperations {
  const operations = new Map<string, GrpcOperation>();
  const descriptions: OperationDescription[] = [];
  const definition = loadProtos(config, baseDir, issues);
  const serviceDefinition =
    definition === undefined ? undefined : findService(definition, config.service, issues);
  if (definition === undefined || serviceDefinition === undefined) return { operations, descriptions };
  const schemas = new MessageSchemas(definition);
  const declared =
    Object.keys(config.operations).length > 0 ? config.operations : unaryMethods(serviceDefinition);
  for (const [name, operation] of Object.entries(declared)) {
    const method = serviceDefinition[name];
    if (method === undefined) {
      const known = Object.keys(serviceDefinition).join(', ') || 'none';
      issues.push({
        path: ['operations', name],
        message: `service ${config.service} has no method "${name}" (methods: ${known})`,
      });
      continue;
    }
    if (method.requestStream || method.responseStream) {
      issues.push({
        path: ['operations', name],
        message: `method ${name} streams (${streamingKind(method)}); only unary methods can be called`,
      });
      continue;
    }
    const requestType = fullNameOf(definition, method.requestType);
    const responseType = fullNameOf(definition, method.responseType);
    operations.set(name, {
      name,
      path: method.path,
      encode: method.requestSerialize as Encode,
      decode: method.responseDeserialize as Decode,
      requestType,
      withMetadata: operation.withMetadata,
      extras: Object.freeze({ service, operation: name }),
    });
    const types = { requestType, responseType };
    descriptions.push(Object.freeze(describeMethod(name, operation, method, types, schemas)));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}

/** Loads the .proto files; a file that cannot be read or parsed is an issue at `proto`. */
export function loadProtos(
  config: GrpcServiceConfig,
  baseDir: string,
  issues: ConnectorIssue[],
): PackageDefinition | undefined {
  const files = typeof config.proto === 'string' ? [config.proto] : config.proto;
  const resolved = files.map((file) => path.resolve(baseDir, file));
  let readable = true;
  resolved.forEach((file, index) => {
    try {
      readFileSync(file);
    } catch (error) {
      readable = false;
      issues.push({
        path: typeof config.proto === 'string' ? ['proto'] : ['proto', index],
        message: `cannot read proto file "${files[index]}": ${fileError(error)}`,
      });
    }
  });
  if (!readable) return undefined;
  // Imports are looked up in includeDirs, then beside the declared files (as protoc -I would).
  const includeDirs = [
    ...new Set([
      ...(config.includeDirs ?? []).map((dir) => path.resolve(baseDir, dir)),
      ...resolved.map((file) => path.dirname(file)),
    ]),
  ];
  try {
    // Synchronous on purpose: protobufjs's async loader throws parse errors from an I/O callback,
    // where no caller can catch them; loading happens once, before serving.
    return loadSync(resolved, { ...LOADER_OPTIONS, includeDirs });
  } catch (error) {
    issues.push({ path: ['proto'], message: `cannot load the proto files: ${(error as Error).message}` });
    return undefined;
  }
}

function findService(
  definition: PackageDefinition,
  name: string,
  issues: ConnectorIssue[],
): ServiceDefinition | undefined {
  const entry = definition[name];
  if (entry !== undefined && isService(entry)) return entry;
  const services = Object.keys(definition).filter((key) => isService(definition[key]!));
  issues.push({
    path: ['service'],
    message: `the proto files declare no service "${name}" (services: ${services.join(', ') || 'none'})`,
  });
  return undefined;
}

function isService(entry: PackageDefinition[string]): entry is ServiceDefinition {
  // Message and enum definitions carry a `format`; services are maps of method definitions.
  return !('format' in entry);
}

function unaryMethods(service: ServiceDefinition): Record<string, GrpcOperationConfig> {
  const methods: Record<string, GrpcOperationConfig> = {};
  for (const [name, method] of Object.entries(service)) {
    if (!method.requestStream && !method.responseStream) methods[name] = { withMetadata: false };
  }
  return methods;
}

function streamingKind(method: Method): string {
  if (method.requestStream && method.responseStream) return 'bidirectional';
  return method.requestStream ? 'client streaming' : 'server streaming';
}

/**
 * The fully qualified name of a method's message type. proto-loader keeps only the short name
 * in its descriptor, so the name is found among the definitions: the one type with that short
 * name, or, when packages share it, the one whose descriptor is the same.
 */
function fullNameOf(definition: PackageDefinition, type: Method['requestType']): string {
  const short = (type.type as { name: string }).name;
  const candidates = Object.keys(definition).filter((key) => {
    const entry = definition[key]!;
    return 'format' in entry && entry.format === type.format && (key === short || key.endsWith(`.${short}`));
  });
  if (candidates.length <= 1) return candidates[0] ?? short;
  const wanted = JSON.stringify(type.type);
  return (
    candidates.find((key) => JSON.stringify((definition[key] as { type: unknown }).type) === wanted) ??
    candidates[0]!
  );
}

function describeMethod(
  name: string,
  operation: GrpcOperationConfig,
  method: Method,
  types: { requestType: string; responseType: string },
  schemas: MessageSchemas,
): OperationDescription {
  const message = schemas.schemaOf(types.requestType);
  const reply = schemas.schemaOf(types.responseType);
  const metadataSchema: JsonSchema = {
    type: 'object',
    additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  };
  const description: OperationDescription = {
    name,
    // The request message goes in input.message, not path params: nothing for the params check.
    requiredParams: [],
    // A proto says nothing of side effects: never retried unless declared.
    idempotent: false,
    method: method.path,
    requestType: types.requestType,
    responseType: types.responseType,
    inputSchema: { type: 'object', properties: { message, metadata: metadataSchema } },
    outputSchema: operation.withMetadata
      ? {
          type: 'object',
          properties: { message: reply, metadata: metadataSchema },
          required: ['message', 'metadata'],
        }
      : reply,
  };
  if (operation.summary !== undefined) description.summary = operation.summary;
  return description;
}
