/**
 * The config's JSON Schema, generated from the zod schema the modules assemble (see
 * src/modules.ts), then shaped for editors:
 * - every scalar also accepts a string with `${env.NAME:-default}` (the loader replaces it), so
 *   `port: ${env.PORT:-8080}` is not underlined;
 * - a union told apart by a constant field (a service's `kind`, a credential's `type`) becomes
 *   `if`/`then` on that field instead of `oneOf`, so one mistake gives one error, not one per kind;
 * - only standard formats (zod's `starts_with` is a pattern already);
 * - `markdownDescription` (VS Code's YAML extension shows it) and `examples` on the main keys.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

/** A string holding at least one ${env.NAME} or ${env.NAME:-default} reference. */
export const ENV_PLACEHOLDER_PATTERN = '\\$\\{env\\.[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}';

/** The formats JSON Schema 2020-12 defines; any other is dropped. */
const STANDARD_FORMATS = new Set([
  'date-time',
  'date',
  'time',
  'duration',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uuid',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
]);

/** Examples of the main keys, by their place (`*`: any map key, `[]`: any list item). */
const EXAMPLES: Readonly<Record<string, readonly unknown[]>> = {
  'server.port': [8080, '${env.PORT:-8080}'],
  'server.host': ['0.0.0.0', '${env.HOST:-127.0.0.1}'],
  'server.requestTimeout': ['30s'],
  services: [
    {
      users: {
        kind: 'http',
        url: '${env.USERS_URL:-http://127.0.0.1:9001}',
        operations: { get: { path: '/users/{id}' } },
      },
    },
  ],
  'services.*.kind': ['http', 'soap', 'graphql', 'grpc'],
  'services.*.url': ['${env.USERS_URL:-http://127.0.0.1:9001}', 'https://users.internal'],
  'services.*.timeout': ['2s'],
  vars: [{ pageSize: 20, genres: { DRA: 'drama' } }],
  endpoints: [
    [
      {
        method: 'GET',
        path: '/users/{id}',
        flow: [{ id: 'user', call: 'users.get', input: { params: { id: '{{ request.params.id }}' } } }],
      },
    ],
  ],
  'endpoints[].method': ['GET', 'POST'],
  'endpoints[].path': ['/users/{id}'],
  'endpoints[].flow': [
    [{ id: 'user', call: 'users.get', input: { params: { id: '{{ request.params.id }}' } } }],
  ],
  'endpoints[].flow[].id': ['user'],
  'endpoints[].flow[].call': ['users.get'],
  'endpoints[].flow[].input': [{ params: { id: '{{ request.params.id }}' } }],
  'endpoints[].flow[].map': [{ name: '{{ steps.user.name }}' }],
  'endpoints[].flow[].when': ['has(steps.where.provider)'],
  'endpoints[].flow[].forEach': ['steps.order.lines'],
  'endpoints[].response': [
    { status: 200, body: { id: '{{ request.params.id }}', name: '{{ steps.user.name }}' } },
  ],
};

/** The main keys (they get a markdownDescription): sections, and the fields of a service, an endpoint, a step. */
const MAIN_KEY =
  /^(?:[^.[\]*]+|services\.\*\.[^.[\]]+|endpoints\[\]\.[^.[\]]+|endpoints\[\]\.flow\[\]\.[^.[\]]+)$/;

/** The JSON Schema of a config format, for editors and external validators. */
export function toConfigJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    // Inline code functions exist only in TypeScript configs; JSON Schema cannot say "function".
    unrepresentable: 'any',
  }) as Json;
  const shaped = shapeForEditors(generated, '') as Json;
  return {
    ...shaped,
    $defs: {
      ...(isObject(shaped.$defs) ? shaped.$defs : {}),
      envPlaceholder: {
        type: 'string',
        pattern: ENV_PLACEHOLDER_PATTERN,
        description: 'A value given by an environment variable: ${env.NAME} or ${env.NAME:-default}.',
      },
    },
    $id: 'https://chorus.dev/schema/chorus.schema.json',
    title: 'Chorus gateway config',
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites a generated schema node (and its children) for editors; `place` is its key path. */
function shapeForEditors(node: unknown, place: string): unknown {
  if (Array.isArray(node)) return node.map((child) => shapeForEditors(child, place));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, shapeForEditors(child, join(place, name))]),
      );
    } else if (key === 'additionalProperties' && isObject(value)) {
      out[key] = shapeForEditors(value, join(place, '*'));
    } else if (key === 'items') {
      out[key] = shapeForEditors(value, `${place}[]`);
    } else if (key === 'format' && typeof value === 'string' && !STANDARD_FORMATS.has(value)) {
      // zod's own formats (starts_with, …) come with a pattern that says the same.
    } else if (key === 'default' || key === 'examples' || key === 'const' || key === 'enum') {
      out[key] = value;
    } else {
      out[key] = shapeForEditors(value, place);
    }
  }
  if (typeof out.description === 'string' && MAIN_KEY.test(place))
    out.markdownDescription ??= out.description;
  const examples = EXAMPLES[place];
  if (examples !== undefined && out.examples === undefined && !Array.isArray(out.oneOf))
    out.examples = [...examples];
  return discriminated(acceptingPlaceholders(out));
}

function join(place: string, name: string): string {
  return place === '' ? name : `${place}.${name}`;
}

/** A scalar that a plain string would not match gets a `${env…}` alternative. */
function acceptingPlaceholders(node: Json): Json {
  if (node.const !== undefined) return node; // a discriminator or a version: never a placeholder
  const type = node.type;
  const restrictedString =
    type === 'string' &&
    (node.pattern !== undefined ||
      node.format !== undefined ||
      node.enum !== undefined ||
      node.minLength !== undefined ||
      node.maxLength !== undefined);
  const otherScalar =
    type === 'number' ||
    type === 'integer' ||
    type === 'boolean' ||
    (type === undefined && Array.isArray(node.enum));
  if (!restrictedString && !otherScalar) return node;
  const { description, markdownDescription, default: fallback, examples, ...rest } = node;
  const wrapped: Json = {};
  if (description !== undefined) wrapped.description = description;
  if (markdownDescription !== undefined) wrapped.markdownDescription = markdownDescription;
  if (fallback !== undefined) wrapped.default = fallback;
  if (examples !== undefined) wrapped.examples = examples;
  wrapped.anyOf = [rest, { $ref: '#/$defs/envPlaceholder' }];
  return wrapped;
}

/**
 * `oneOf` whose options each fix one field to a constant (`kind: http`, `kind: soap`) becomes an
 * enum on that field and one `if`/`then` per option: an editor then reports a wrong kind once,
 * and a mistake inside a service only against its own kind.
 */
function discriminated(node: Json): Json {
  const options = node.oneOf;
  if (!Array.isArray(options) || options.length < 2) return node;
  const field = discriminatorOf(options);
  if (field === undefined) return node;
  const { oneOf: _options, ...rest } = node;
  const values = options.map((option) => constOf(option as Json, field));
  return {
    ...rest,
    type: 'object',
    required: [field],
    properties: {
      [field]: {
        enum: values,
        description: `One of: ${values.join(', ')}.`,
        markdownDescription: `One of: ${values.map((value) => `\`${String(value)}\``).join(', ')}.`,
      },
    },
    allOf: options.map((option, index) => ({
      if: { properties: { [field]: { const: values[index] } }, required: [field] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
      then: option,
    })),
  };
}

/** The field every option fixes to a distinct constant, if there is one. */
function discriminatorOf(options: unknown[]): string | undefined {
  const first = options[0];
  if (!isObject(first) || !isObject(first.properties)) return undefined;
  for (const field of Object.keys(first.properties)) {
    const values = options.map((option) => (isObject(option) ? constOf(option, field) : undefined));
    if (values.every((value) => value !== undefined) && new Set(values).size === values.length) return field;
  }
  return undefined;
}

function constOf(option: Json, field: string): unknown {
  const property = isObject(option.properties) ? option.properties[field] : undefined;
  return isObject(property) ? property.const : undefined;
}
