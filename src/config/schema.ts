/**
 * The config schema: the one source of validation, TypeScript types (ChorusConfig) and the
 * exported JSON Schema (schema/chorus.schema.json, kept from drifting by a test).
 */
import { z } from 'zod';
import { amqpServiceSchema } from '../connectors/amqp/schema.ts';
import { graphqlServiceSchema } from '../connectors/graphql/schema.ts';
import { grpcServiceSchema } from '../connectors/grpc/schema.ts';
import { httpServiceSchema } from '../connectors/http/schema.ts';
import { natsServiceSchema } from '../connectors/nats/schema.ts';
import { soapServiceSchema } from '../connectors/soap/schema.ts';
import { xmlServiceSchema } from '../connectors/xml/schema.ts';
import { observabilitySchema } from '../observability/schema.ts';
import { invalidateSchema, stepCacheSchema } from '../policies/cache/schema.ts';
import { authSettingsSchema } from '../policies/consumers/auth-settings.ts';
import { consumersSchema, planSchema } from '../policies/consumers/schema.ts';
import { endpointPoliciesSchema } from '../policies/schema.ts';
import { adminSchema, portalSchema } from '../portal/schema.ts';
import { storesSchema } from '../state/schema.ts';
import {
  durationSchema,
  httpMethodSchema,
  sizeSchema,
  templateSchema,
  timeoutSchema,
} from './schema-parts.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A step's code function, as written inline in a TypeScript defineConfig() config. */
export type CodeFunction = (scope: Record<string, unknown>, ctx: { signal: AbortSignal }) => unknown;

/** Every service kind Chorus knows; connectors add theirs here. */
export const serviceSchema = z
  .discriminatedUnion('kind', [
    httpServiceSchema,
    graphqlServiceSchema,
    grpcServiceSchema,
    natsServiceSchema,
    amqpServiceSchema,
    soapServiceSchema,
    xmlServiceSchema,
  ])
  .describe('A backend service, named once and called by flows.');

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

/** A step of a flow: exactly one of call, map or code, with optional modifiers. */
export const stepSchema = z
  .strictObject({
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
    cache: stepCacheSchema.optional().describe("Caches the step's output (call and code steps)."),
    invalidate: invalidateSchema
      .optional()
      .describe('Cache entries removed once the step has succeeded (e.g. by a write endpoint).'),
    timeout: timeoutSchema
      .optional()
      .describe("Timeout of this step's call, instead of the service's; the request deadline still applies."),
  })
  .superRefine((step, ctx) => {
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
    if (step.concurrency !== undefined && step.forEach === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['concurrency'],
        message: 'concurrency is only for forEach steps',
      });
    }
  })
  .describe('A step of a flow.');

/** The response an endpoint answers with, built after the flow. */
export const responseSchema = z
  .strictObject({
    status: z
      .union([z.number().int().min(100).max(599), z.string()])
      .default(200)
      .describe('The status: a number, or a "{{ expression }}".'),
    headers: z.record(z.string(), z.string()).optional().describe('Response headers; values are templates.'),
    body: templateSchema.optional().describe("Template of the JSON body (default: the last step's output)."),
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

/** A public operation of the API. */
export const endpointSchema = z
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
    policies: endpointPoliciesSchema
      .optional()
      .describe('Inbound policies of this endpoint; each replaces the gateway default of the same name.'),
    timeout: timeoutSchema.optional().describe('The request deadline (default: server.requestTimeout).'),
    flow: z
      .array(stepSchema)
      .default([])
      .describe('The steps; they run as soon as their dependencies are done.'),
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

/** Settings of the listener. */
export const serverSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('Address to listen on (0.0.0.0 for every interface).'),
    port: z.number().int().min(0).max(65535).default(8080).describe('Port to listen on (0: any free port).'),
    bodyLimit: sizeSchema.default('1mb').describe('Largest request body accepted.'),
    jsonDepthLimit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(64)
      .describe('Deepest nesting of objects and arrays accepted in a JSON request body.'),
    requestTimeout: timeoutSchema.default('30s').describe('Default deadline of a request.'),
    shutdownGrace: durationSchema
      .default('10s')
      .describe('How long in-flight requests may finish on SIGTERM.'),
    keepAliveTimeout: durationSchema.default('5s').describe('How long an idle client connection is kept.'),
    headersTimeout: durationSchema.default('10s').describe('How long a client may take to send its headers.'),
    maxHeaderSize: sizeSchema
      .default('16kb')
      .describe(
        'Largest request head (request line and headers) accepted; larger: 431 CHORUS_HEADERS_TOO_LARGE.',
      ),
    trustedProxies: z
      .array(z.string())
      .default([])
      .describe(
        'Addresses or CIDR ranges of proxies whose X-Forwarded-For is believed (none by default: the TCP peer is the client).',
      ),
  })
  .describe('The HTTP listener.');

/** The whole gateway config. */
export const configSchema = z
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
        serviceSchema,
      )
      .default({})
      .describe('The backends, by name.'),
    endpoints: z.array(endpointSchema).default([]).describe('The public API.'),
    policies: endpointPoliciesSchema
      .default({})
      .describe('Inbound policies applied to every endpoint unless it declares its own.'),
    auth: authSettingsSchema.optional().describe('How callers authenticate (API keys, JWT).'),
    consumers: consumersSchema.default([]).describe('Who calls the API, with their keys and plan.'),
    plans: z.record(z.string(), planSchema).default({}).describe('Plans by name: rate limit, quota, scopes.'),
    stores: storesSchema.optional().describe('Where shared state lives (memory by default, Redis).'),
    portal: portalSchema.default(portalSchema.parse({})),
    admin: adminSchema.default(adminSchema.parse({})),
    observability: observabilitySchema.default(observabilitySchema.parse({})),
  })
  .describe('A Chorus gateway config.');

/** A config as a user writes it (defaults optional). */
export type ChorusConfig = z.input<typeof configSchema>;
/** A config after validation, with defaults filled in. */
export type ResolvedConfig = z.output<typeof configSchema>;
export type EndpointConfig = z.output<typeof endpointSchema>;
export type StepConfig = z.output<typeof stepSchema>;
export type ParameterConfig = z.output<typeof parameterSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
