/**
 * The config schema: the one source of validation, TypeScript types (ChorusConfig) and the
 * exported JSON Schema (schema/chorus.schema.json, kept from drifting by a test).
 */
import { z } from 'zod';
import {
  durationMsSchema,
  httpMethodSchema,
  sizeBytesSchema,
  templateSchema,
  timeoutMsSchema,
} from './schema-parts.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A step's code function, as written inline in a TypeScript defineConfig() config. */
export type CodeFunction = (scope: Record<string, unknown>, ctx: { signal: AbortSignal }) => unknown;

/**
 * What the engine reads of every service, whatever its kind; each connector module's schema
 * says the rest, and the gateway assembles the union of kinds (src/modules.ts).
 */
export interface ServiceConfig {
  readonly kind: string;
  /** Milliseconds (the schema turned "5s" into 5000). */
  readonly timeout?: number | undefined;
  readonly description?: string | undefined;
  readonly [field: string]: unknown;
}

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

/** A path, query or header parameter of an endpoint. */
export const parameterSchema = z
  .strictObject({
    type: z
      .enum(['string', 'integer', 'number', 'boolean'])
      .default('string')
      .describe('The type the raw text is converted to.'),
    required: z
      .boolean()
      .optional()
      .describe('Whether the parameter must be present (path params always are).'),
    default: scalarSchema.optional().describe('Value used when the parameter is absent.'),
    description: z.string().optional().describe('What the parameter means, for the portal.'),
    enum: z.array(scalarSchema).optional().describe('The only values allowed.'),
    pattern: z.string().optional().describe('A regular expression string values must match.'),
    minimum: z.number().optional().describe('Smallest number allowed.'),
    maximum: z.number().optional().describe('Largest number allowed.'),
    minLength: z.number().int().nonnegative().optional().describe('Shortest string allowed.'),
    maxLength: z.number().int().nonnegative().optional().describe('Longest string allowed.'),
    example: scalarSchema.optional().describe('An example value, for the portal.'),
  })
  .describe('A parameter of an endpoint.');

const parametersSchema = z.record(z.string().min(1), parameterSchema);

/** What an endpoint accepts; validated once per request by validators compiled at load. */
export const inputSchema = z
  .strictObject({
    params: parametersSchema
      .optional()
      .describe('Path parameters, by the name used in {braces} in the path.'),
    query: parametersSchema.optional().describe('Query parameters.'),
    headers: parametersSchema.optional().describe('Request headers (names are case-insensitive).'),
    body: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('A JSON Schema (draft 2020-12) the JSON body must match; without it a body is not read.'),
    bodyTypes: z
      .array(z.enum(['application/json', 'application/x-www-form-urlencoded']))
      .min(1)
      .optional()
      .describe(
        'The body media types taken (default: application/json); a form body reads as an object of strings (lists for repeated names).',
      ),
  })
  .describe('The input an endpoint accepts.');

/** How a step's failure is handled. */
export const onErrorSchema = z
  .union([
    z.enum(['fail', 'skip']),
    z.strictObject({
      fallback: z.string().describe('A CEL expression whose value replaces the output; `error` is in scope.'),
    }),
  ])
  .describe(
    'fail (default): the request fails; skip: the output is null; {fallback: expr}: the output is expr.',
  );

/** How a call step repeats: each round's state, when it stops, its bounds, what it gives. */
export const repeatSchema = z
  .strictObject({
    maxRounds: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .describe('Most calls the step makes (required: every loop is bounded).'),
    maxItems: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Most items the step gathers; more is the bound being hit.'),
    state: templateSchema
      .optional()
      .describe("Template of the first round's state (page.state); default {}."),
    items: z
      .string()
      .optional()
      .describe("A CEL expression: the round's items (default: its output, which must then be a list)."),
    while: z
      .string()
      .optional()
      .describe('A CEL expression read after each round: another round only when it is true (default true).'),
    next: z
      .string()
      .optional()
      .describe("A CEL expression read after each round: the next round's state; null stops the loop."),
    rounds: z
      .string()
      .optional()
      .describe(
        'A CEL expression read after the first round: how many rounds there are; the rest run in parallel.',
      ),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('With rounds: most rounds in flight at once (default 4).'),
    reduce: z
      .string()
      .optional()
      .describe('A CEL expression giving the output from page.items and page.outputs (default: page.items).'),
    onLimit: z
      .enum(['fail', 'partial'])
      .default('fail')
      .describe('When a bound is hit: fail (CHORUS_LOOP_LIMIT) or partial (what was read, with a warning).'),
  })
  .superRefine((repeat, ctx) => {
    if (repeat.rounds === undefined && repeat.next === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'repeat needs next (the state of each round) or rounds (how many)',
      });
    }
    if (repeat.rounds !== undefined && (repeat.next !== undefined || repeat.while !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rounds'],
        message: 'rounds runs the rounds in parallel from page.round; it takes no next or while',
      });
    }
    if (repeat.concurrency !== undefined && repeat.rounds === undefined) {
      ctx.addIssue({ code: 'custom', path: ['concurrency'], message: 'concurrency is only for rounds' });
    }
  })
  .describe('Repeats a call: cursor, next-link, page or offset pagination, bounded.');

/** How a call step batches its keys. */
export const batchSchema = z
  .strictObject({
    key: z.string().describe("A CEL expression: this run's key (under forEach, the item's), e.g. item.id."),
    size: z.number().int().min(1).max(1000).describe('Most keys in one call.'),
    results: z
      .string()
      .describe(
        'A CEL expression: the list of results in the answer (batch.output), e.g. batch.output.users.',
      ),
    resultKey: z.string().describe('A CEL expression: the key of one result (result), e.g. result.id.'),
  })
  .describe('Keyed batching: one call per batch of up to size keys; results matched by key, not position.');

/** A step of a flow: exactly one of call, map or code, with optional modifiers. */
const stepShape = {
  id: z
    .string()
    .regex(IDENTIFIER, 'step ids are letters, digits and _ (not starting with a digit)')
    .describe('The step id; its output is steps.<id>.'),
  description: z.string().optional().describe('What the step does, for the portal.'),
  call: z
    .string()
    .regex(/^[A-Za-z][\w-]*\.[A-Za-z_][\w-]*$/, 'expected "service.operation"')
    .optional()
    .describe('The service operation to call, as "service.operation".'),
  input: templateSchema.optional().describe('Template of the call input: {params, query, headers, body}.'),
  map: templateSchema.optional().describe('Template whose value becomes the output.'),
  code: z
    .union([
      z.strictObject({
        module: z.string().describe('Path of a JS/TS module, relative to the config file.'),
        export: z.string().default('default').describe('The exported function to call.'),
      }),
      z.custom<CodeFunction>((value) => typeof value === 'function', 'expected a function'),
    ])
    .optional()
    .describe('A function called with the scope; its (awaited) return value is the output.'),
  when: z
    .string()
    .optional()
    .describe('A CEL expression; the step runs only when it is true (else its output is null).'),
  forEach: z
    .string()
    .optional()
    .describe(
      'A CEL expression giving a list; the step runs once per element (`item`, `index`); output is the list.',
    ),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('With forEach: most runs in flight at once (default 10).'),
  after: z
    .array(z.string())
    .optional()
    .describe(
      'Steps that must finish first, besides those read by expressions (code steps read the scope in code).',
    ),
  onError: onErrorSchema.optional(),
  timeout: timeoutMsSchema
    .optional()
    .describe("Timeout of this step's call, instead of the service's; the request deadline still applies."),
  repeat: repeatSchema
    .optional()
    .describe('Repeats the call (pagination, polling) until the backend is done, within required bounds.'),
  batch: batchSchema
    .optional()
    .describe(
      'Calls the operation once per batch of keys and gives each run its own result, matched by key.',
    ),
  itemKey: z
    .string()
    .optional()
    .describe(
      'With forEach: a CEL expression naming an item in its warnings (besides its index), e.g. item.id.',
    ),
  singleFlight: z
    .boolean()
    .optional()
    .describe(
      'Concurrent identical calls of this idempotent operation, from any request, share one backend call.',
    ),
};

/**
 * A step schema with the fields modules add (e.g. the step cache's `cache` and `invalidate`).
 * Exactly one of call, map or code.
 */
/** The core fields of a step, as the refinement reads them. */
type StepCore = z.output<z.ZodObject<typeof stepShape>>;

export function buildStepSchema<Extra extends z.ZodRawShape>(extra: Extra) {
  return z
    .strictObject({ ...stepShape, ...extra })
    .superRefine((value, ctx) => {
      const step = value as StepCore;
      const kinds = (['call', 'map', 'code'] as const).filter((kind) => step[kind] !== undefined);
      if (kinds.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            kinds.length === 0
              ? 'a step needs one of call, map or code'
              : `a step has exactly one of call, map or code, not ${kinds.join(' and ')}`,
        });
      }
      if (step.input !== undefined && step.call === undefined) {
        ctx.addIssue({ code: 'custom', path: ['input'], message: 'input is only for call steps' });
      }
      if ((step.repeat !== undefined || step.batch !== undefined) && step.call === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [step.repeat !== undefined ? 'repeat' : 'batch'],
          message: 'repeat and batch are only for call steps',
        });
      }
      if (step.repeat !== undefined && (step.forEach !== undefined || step.batch !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['repeat'],
          message: 'a repeating step has no forEach or batch (put the loop in its own step)',
        });
      }
      if (step.itemKey !== undefined && step.forEach === undefined) {
        ctx.addIssue({ code: 'custom', path: ['itemKey'], message: 'itemKey is only for forEach steps' });
      }
      if (step.concurrency !== undefined && step.forEach === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['concurrency'],
          message: 'concurrency is only for forEach steps',
        });
      }
    })
    .describe('A step of a flow.');
}

/** The core step schema, without the fields modules add. */
export const stepSchema = buildStepSchema({});

/** The response an endpoint answers with, built after the flow. */
export const responseSchema = z
  .strictObject({
    status: z
      .union([z.number().int().min(100).max(599), z.string()])
      .default(200)
      .describe('The status: a number, or a "{{ expression }}".'),
    headers: z.record(z.string(), z.string()).optional().describe('Response headers; values are templates.'),
    body: templateSchema.optional().describe("Template of the JSON body (default: the last step's output)."),
    schema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'The JSON Schema of the body, published in the OpenAPI document; without it the schema is inferred from the body template and the types of what it reads.',
      ),
  })
  .describe('The response of an endpoint.');

/** One case of a list of responses: the first whose `when` is true answers. */
export const responseCaseSchema = responseSchema
  .extend({
    when: z
      .string()
      .optional()
      .describe('A CEL expression; this response answers when it is true (none: always).'),
  })
  .describe('A response that answers when its condition holds.');

/** A public operation of the API, with the inbound policies and step schema the modules make. */
export function buildEndpointSchema<Policies extends z.ZodObject, Step extends z.ZodType>(
  policies: Policies,
  step: Step,
) {
  return z
    .strictObject({
      id: z
        .string()
        .regex(IDENTIFIER)
        .optional()
        .describe('Operation id (default: derived from method and path).'),
      method: httpMethodSchema,
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/{}]*$/, 'expected a path such as /items/{id}')
        .describe('The public path; {name} segments are path parameters.'),
      summary: z.string().optional().describe('One line for the portal.'),
      description: z.string().optional().describe('Longer documentation (Markdown).'),
      tags: z.array(z.string()).optional().describe('Groups in the portal.'),
      input: inputSchema.optional(),
      policies: policies
        .optional()
        .describe('Inbound policies of this endpoint; each replaces the gateway default of the same name.'),
      timeout: timeoutMsSchema.optional().describe('The request deadline (default: server.requestTimeout).'),
      flow: z.array(step).default([]).describe('The steps; they run as soon as their dependencies are done.'),
      response: z
        .union([responseSchema, z.array(responseCaseSchema).min(1)])
        .optional()
        .describe('The response, or a list of responses of which the first whose `when` holds answers.'),
    })
    .superRefine((endpoint, ctx) => {
      if (!Array.isArray(endpoint.response)) return;
      const last = endpoint.response.length - 1;
      endpoint.response.forEach((entry, index) => {
        if (index === last && entry.when !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['response', index, 'when'],
            message: 'the last response must have no when: it answers when no other does',
          });
        }
        if (index < last && entry.when === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['response', index],
            message: 'only the last response may omit when (the ones after it could never answer)',
          });
        }
      });
    })
    .describe('A public endpoint.');
}

/** The core endpoint schema: inbound policies and step extras left open to the modules. */
export const endpointSchema = buildEndpointSchema(
  z.record(z.string(), z.unknown()) as unknown as z.ZodObject,
  stepSchema,
);

/** Settings of the listener. */
export const serverSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('Address to listen on (0.0.0.0 for every interface).'),
    port: z.number().int().min(0).max(65535).default(8080).describe('Port to listen on (0: any free port).'),
    bodyLimit: sizeBytesSchema.prefault('1mb').describe('Largest request body accepted.'),
    jsonDepthLimit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(64)
      .describe('Deepest nesting of objects and arrays accepted in a JSON request body.'),
    requestTimeout: timeoutMsSchema.prefault('30s').describe('Default deadline of a request.'),
    shutdownGrace: durationMsSchema
      .prefault('10s')
      .describe('How long in-flight requests may finish on SIGTERM.'),
    drainDelay: durationMsSchema
      .prefault('0s')
      .describe(
        'On SIGTERM, how long the listener keeps accepting and serving (readiness already 503, every answer with connection: close) so load balancers notice before it stops.',
      ),
    keepAliveTimeout: durationMsSchema.prefault('5s').describe('How long an idle client connection is kept.'),
    headersTimeout: durationMsSchema
      .prefault('10s')
      .describe('How long a client may take to send its headers.'),
    maxHeaderSize: sizeBytesSchema
      .prefault('16kb')
      .describe(
        'Largest request head (request line and headers) accepted; larger: 431 CHORUS_HEADERS_TOO_LARGE.',
      ),
    trustedProxies: z
      .array(z.string())
      .default([])
      .describe(
        'Addresses or CIDR ranges of proxies whose X-Forwarded-For is believed (none by default: the TCP peer is the client).',
      ),
    compression: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe('Whether answers are compressed for clients that accept it.'),
        threshold: sizeBytesSchema.prefault('1kb').describe('Smaller bodies go out uncompressed.'),
        encodings: z
          .array(z.enum(['br', 'zstd', 'gzip']))
          .min(1)
          .default(['br', 'zstd', 'gzip'])
          .describe(
            "The content codings offered, in the server's order of preference (zstd only where Node's zlib has it).",
          ),
      })
      .prefault({})
      .describe(
        'Compression of JSON, problem+json, the OpenAPI document and the portal by Accept-Encoding (docs/policies/cache.md).',
      ),
    etags: z
      .boolean()
      .default(true)
      .describe('A weak ETag on GET/HEAD 200 answers, computed from the body; If-None-Match answers 304.'),
  })
  .describe('The HTTP listener.');

/** What the modules add to the config format: service kinds, inbound policies, step fields, top-level sections. */
export interface ConfigParts<
  Service extends z.ZodType,
  Policies extends z.ZodObject,
  StepFields extends z.ZodRawShape,
  Sections extends z.ZodRawShape,
> {
  /** The union of every service kind's schema (each with the upstream policy fields). */
  readonly service: Service;
  /** The inbound policies an endpoint (and the gateway default) may declare. */
  readonly policies: Policies;
  /** Fields a step may carry besides the core ones (e.g. cache, invalidate). */
  readonly stepFields: StepFields;
  /** Top-level sections owned by modules (auth, consumers, plans, stores, portal, admin, observability). */
  readonly sections: Sections;
}

/** The whole gateway config, assembled from the core and what the modules add. */
export function buildConfigSchema<
  Service extends z.ZodType,
  Policies extends z.ZodObject,
  StepFields extends z.ZodRawShape,
  Sections extends z.ZodRawShape,
>(parts: ConfigParts<Service, Policies, StepFields, Sections>) {
  const step = buildStepSchema(parts.stepFields);
  return z
    .strictObject({
      $schema: z.string().optional().describe('Path or URL of the JSON Schema, for editors.'),
      version: z.literal(1).default(1).describe('Config format version.'),
      server: serverSchema.default(serverSchema.parse({})),
      vars: z
        .record(z.string(), z.unknown())
        .default({})
        .describe('Constants available to expressions as vars.'),
      services: z
        .record(
          z.string().regex(/^[A-Za-z][\w-]*$/, 'service names are letters, digits, _ and -'),
          parts.service,
        )
        .default({})
        .describe('The backends, by name.'),
      endpoints: z.array(buildEndpointSchema(parts.policies, step)).default([]).describe('The public API.'),
      policies: parts.policies
        .default({} as z.core.util.NoUndefined<z.output<Policies>>)
        .describe('Inbound policies applied to every endpoint unless it declares its own.'),
      ...parts.sections,
    })
    .describe('A Chorus gateway config.');
}

/**
 * The core of every config, as the engine reads it: services, endpoints and steps with the
 * modules' fields left open. The full format is `configSchema` in src/modules.ts.
 */
const coreConfigSchema = buildConfigSchema({
  service: z.looseObject({ kind: z.string() }),
  policies: z.looseObject({}),
  stepFields: { cache: z.unknown().optional(), invalidate: z.unknown().optional() },
  sections: {},
});

/** A config after validation, as the core reads it (module sections are typed by their own schemas). */
export type CoreConfig = z.output<typeof coreConfigSchema>;
export type EndpointConfig = CoreConfig['endpoints'][number];
export type StepConfig = EndpointConfig['flow'][number];
export type ParameterConfig = z.output<typeof parameterSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
