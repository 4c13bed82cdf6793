/**
 * Builds the OpenAPI 3.1 document of a gateway from its resolved config: one operation per endpoint, the
 * built-in health routes, and RFC 9457 problem responses drawn from the error catalogue. What an
 * endpoint's inbound policies add (security, 401/403/429) comes from the policy modules themselves.
 */

import { claimId, deriveOperationId, resolveOperationIds } from '../config/operation-ids.ts';
import type { CoreConfig, EndpointConfig, ParameterConfig } from '../config/schema.ts';
import type { OpenApiContext } from '../contracts/policy.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors/catalogue.ts';
import { inOrder } from '../policies/compose.ts';
import { effectivePolicyConfig, type InboundModule } from '../policies/inbound/stack.ts';
import { responseMediaType } from '../types/response-schema.ts';
import { type ProblemSubject, problemExample } from './problem-examples.ts';

/** A JSON Schema (draft 2020-12, the OpenAPI 3.1 dialect). */
export type JsonSchema = Record<string, unknown>;

/** An OpenAPI 3.1 document as generateOpenApi builds it; inner objects are kept loosely typed. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, Record<string, unknown>>;
    securitySchemes?: Record<string, Record<string, unknown>>;
  };
}

/** Options of generateOpenApi that do not come from the config. */
export interface OpenApiOptions {
  /** info.title (default: portal.title of the config, "Chorus API"). */
  title?: string;
  /** info.version, the version of the API described (default: portal.version of the config, "1.0.0"). */
  version?: string;
  /** The public base URL of the gateway, listed under servers. */
  serverUrl?: string;
  /** The inbound policy modules, asked for their part of each operation (the gateway's list). */
  inboundPolicies: readonly InboundModule[];
}

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const GATEWAY_TAG = 'gateway';
const PATH_TEMPLATE = /\{([^}]+)\}/g;
// Statuses whose responses carry no body (RFC 9110).
const BODILESS_STATUSES = new Set([204, 205, 304]);

/** Generates the OpenAPI 3.1.0 document describing a gateway's public API. */
/** The config as the document reads it: the core, and the portal's title and version. */
export type OpenApiConfig = CoreConfig & {
  readonly portal?: {
    readonly title?: string | undefined;
    readonly version?: string | undefined;
    readonly description?: string | undefined;
  };
};

export function generateOpenApi(config: OpenApiConfig, options: OpenApiOptions): OpenApiDocument {
  const operationIds = resolveOperationIds(config.endpoints);
  const takenIds = new Set(operationIds);
  const paths: OpenApiDocument['paths'] = {};
  const tagNames: string[] = [];
  const policies: PolicyDocs = {
    modules: inOrder(options.inboundPolicies),
    context: { config },
    schemes: {},
    secured: false,
  };

  config.endpoints.forEach((endpoint, index) => {
    const pathItem = pathItemOf(paths, endpoint.path);
    const method = endpoint.method.toLowerCase();
    // Two endpoints on one method and path are a config error reported elsewhere; the first one wins here.
    if (pathItem[method] !== undefined) return;
    pathItem[method] = buildOperation(
      endpoint,
      operationIds[index] ?? deriveOperationId(endpoint.method, endpoint.path),
      policies,
      config.policies,
    );
    for (const tag of endpoint.tags ?? []) if (!tagNames.includes(tag)) tagNames.push(tag);
  });

  for (const route of builtInRoutes()) {
    const pathItem = pathItemOf(paths, route.path);
    // An endpoint the user declared on the same route is what the config documents; keep it.
    if (pathItem.get !== undefined) continue;
    pathItem.get = {
      operationId: claimId(route.operationId, takenIds),
      summary: route.summary,
      tags: [GATEWAY_TAG],
      responses: route.responses,
    };
    if (!tagNames.includes(GATEWAY_TAG)) tagNames.push(GATEWAY_TAG);
  }

  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: options.title ?? config.portal?.title ?? 'Chorus API',
      version: options.version ?? config.portal?.version ?? '1.0.0',
    },
    paths,
    components: { schemas: { Problem: problemSchema() }, responses: problemResponses() },
  };
  if (policies.secured) {
    document.components.securitySchemes = Object.fromEntries(
      Object.keys(policies.schemes)
        .sort()
        .map((name) => [name, policies.schemes[name]!]),
    );
  }
  // The API description (Markdown; a descriptionFile was read into it at load).
  if (config.portal?.description !== undefined) document.info.description = config.portal.description;
  if (options.serverUrl !== undefined) document.servers = [{ url: options.serverUrl }];
  if (tagNames.length > 0) {
    document.tags = tagNames.map((name) =>
      name === GATEWAY_TAG ? { name, description: 'Routes built into the gateway.' } : { name },
    );
  }
  return document;
}

function pathItemOf(paths: OpenApiDocument['paths'], path: string): Record<string, Record<string, unknown>> {
  const existing = paths[path];
  if (existing !== undefined) return existing;
  const created: Record<string, Record<string, unknown>> = {};
  paths[path] = created;
  return created;
}

function buildOperation(
  endpoint: EndpointConfig,
  operationId: string,
  policies: PolicyDocs,
  defaults: CoreConfig['policies'],
): Record<string, unknown> {
  const operation: Record<string, unknown> = { operationId };
  if (endpoint.summary !== undefined) operation.summary = endpoint.summary;
  if (endpoint.description !== undefined) operation.description = endpoint.description;
  if (endpoint.tags !== undefined && endpoint.tags.length > 0) operation.tags = endpoint.tags;

  const parameters = buildParameters(endpoint);
  if (parameters.length > 0) operation.parameters = parameters;
  if (endpoint.input?.body !== undefined) {
    operation.requestBody = {
      required: true,
      content: { 'application/json': { schema: endpoint.input.body } },
    };
  }
  operation.responses = buildResponses(endpoint, policies.context.config as CoreConfig);
  const problems = endpointProblemCodes(endpoint, (policies.context.config as CoreConfig).services);
  addPolicyDocs(operation, endpoint, defaults, policies, problems);
  addPlanLimitCodes(problems, policies.context.config.plans);
  addProblemResponses(operation.responses as Record<string, unknown>, problems, problemSubject(endpoint));
  return operation;
}

/** The inbound modules asked for their part of the operations, and what they gave so far. */
interface PolicyDocs {
  readonly modules: readonly InboundModule[];
  readonly context: OpenApiContext;
  /** The security schemes the operations' requirements name. */
  readonly schemes: Record<string, Readonly<Record<string, unknown>>>;
  /** Whether some operation has security requirements (then components.securitySchemes is written). */
  secured: boolean;
}

/** Adds what the endpoint's inbound policies contribute: security requirements and their responses. */
function addPolicyDocs(
  operation: Record<string, unknown>,
  endpoint: EndpointConfig,
  defaults: CoreConfig['policies'],
  policies: PolicyDocs,
  problems: ProblemCodes,
): void {
  for (const module of policies.modules) {
    if ('builtIn' in module || module.openapi === undefined) continue;
    const chosen = effectivePolicyConfig(module.name, endpoint.policies, defaults);
    if (chosen === undefined) continue;
    const part = module.openapi(chosen.config, policies.context);
    if (part.security !== undefined && operation.security === undefined) {
      operation.security = part.security.map((requirement) => ({ ...requirement }));
      policies.secured = true;
    }
    Object.assign(policies.schemes, part.securitySchemes);
    for (const status of Object.keys(part.responses ?? {})) {
      const known = POLICY_CODES[module.name]?.[Number(status)];
      addCodes(problems, known ?? codesOfStatus(Number(status)));
    }
  }
}

function buildParameters(endpoint: EndpointConfig): Array<Record<string, unknown>> {
  const input = endpoint.input ?? {};
  const parameters: Array<Record<string, unknown>> = [];
  // Path parameters come from the template, so an undeclared {name} is still documented (as a string);
  // a declared one that is not in the path cannot be sent and is left out.
  const pathNames = new Set(Array.from(endpoint.path.matchAll(PATH_TEMPLATE), (match) => match[1] ?? ''));
  for (const name of pathNames) {
    parameters.push(buildParameter(name, 'path', input.params?.[name] ?? { type: 'string' }, true));
  }
  for (const [name, param] of Object.entries(input.query ?? {})) {
    parameters.push(buildParameter(name, 'query', param, param.required ?? false));
  }
  for (const [name, param] of Object.entries(input.headers ?? {})) {
    parameters.push(buildParameter(name, 'header', param, param.required ?? false));
  }
  return parameters;
}

function buildParameter(
  name: string,
  location: 'path' | 'query' | 'header',
  param: ParameterConfig,
  required: boolean,
): Record<string, unknown> {
  const parameter: Record<string, unknown> = { name, in: location, required };
  // Portals show the Parameter Object's description and example; the schema keeps them too.
  if (param.description !== undefined) parameter.description = param.description;
  if (param.example !== undefined) parameter.example = param.example;
  parameter.schema = parameterJsonSchema(param);
  return parameter;
}

function parameterJsonSchema(param: ParameterConfig): JsonSchema {
  const schema: JsonSchema = { type: param.type };
  if (param.enum !== undefined) schema.enum = param.enum;
  if (param.pattern !== undefined) schema.pattern = param.pattern;
  if (param.minimum !== undefined) schema.minimum = param.minimum;
  if (param.maximum !== undefined) schema.maximum = param.maximum;
  if (param.minLength !== undefined) schema.minLength = param.minLength;
  if (param.maxLength !== undefined) schema.maxLength = param.maxLength;
  if (param.default !== undefined) schema.default = param.default;
  if (param.description !== undefined) schema.description = param.description;
  // `example` is deprecated in 3.1 schemas in favour of the JSON Schema `examples` array.
  if (param.example !== undefined) schema.examples = [param.example];
  return schema;
}

function buildResponses(endpoint: EndpointConfig, config: CoreConfig): Record<string, unknown> {
  // Every response case with a literal status is documented; a templated status ("{{ … }}") is only
  // known per request, and 200 is its documented default.
  const cases: { status?: number | string }[] = Array.isArray(endpoint.response)
    ? endpoint.response
    : [endpoint.response ?? {}];
  const responses: Record<string, unknown> = {};
  for (const entry of cases) {
    const status = typeof entry.status === 'number' ? entry.status : 200;
    const described: Record<string, unknown> = {
      description: status < 400 ? 'Successful response.' : 'An answer the flow gives for this case.',
    };
    // The body's schema is inferred from its template and the types it reads (src/types/).
    if (!BODILESS_STATUSES.has(status) && endpoint.method !== 'HEAD') {
      described.content = { 'application/json': responseMediaType(config, endpoint, status) };
    }
    responses[String(status)] ??= described;
  }
  return responses;
}

// ---- problem responses: the catalogue codes an endpoint can really answer with, each with an example ----

/** The catalogue codes of one operation, each with the call that can cause it (its example names that call). */
type ProblemCodes = Map<ErrorCode, CallSubject | undefined>;
type CallSubject = Pick<ProblemSubject, 'step' | 'service' | 'operation'>;

/** The codes each inbound policy answers with, by status (a policy not listed: every code of the status). */
const POLICY_CODES: Readonly<Record<string, Readonly<Record<number, readonly ErrorCode[]>>>> = {
  auth: { 401: ['CHORUS_UNAUTHORIZED'], 403: ['CHORUS_FORBIDDEN'] },
  ipFilter: { 403: ['CHORUS_IP_DENIED'] },
  rateLimit: { 429: ['CHORUS_RATE_LIMITED'] },
  quota: { 429: ['CHORUS_QUOTA_EXCEEDED'] },
};
/** Connector kinds whose answers carry protocol errors (SOAP faults, GraphQL errors, gRPC and broker statuses). */
const PROTOCOL_KINDS = new Set(['soap', 'graphql', 'grpc', 'nats', 'amqp']);
/** Connector kinds that report a backend as unavailable (no responder, broker down, gRPC UNAVAILABLE). */
const UNAVAILABLE_KINDS = new Set(['grpc', 'nats', 'amqp']);

function addCodes(codes: ProblemCodes, add: readonly ErrorCode[], call?: CallSubject): void {
  // The first call that can cause a code is the one its example names.
  for (const code of add) if (codes.get(code) === undefined) codes.set(code, call);
}

function codesOfStatus(status: number): ErrorCode[] {
  return errorCodes().filter((code) => ERROR_CATALOGUE[code].status === status);
}

/**
 * The consumer's plan limits (plans.<name>.rateLimit / .quota) count on every endpoint where auth
 * names the consumer: its 429 codes come with the 401.
 */
function addPlanLimitCodes(codes: ProblemCodes, plans: unknown): void {
  if (!codes.has('CHORUS_UNAUTHORIZED') || typeof plans !== 'object' || plans === null) return;
  const limits = Object.values(plans as Record<string, { rateLimit?: unknown; quota?: unknown }>);
  if (limits.some((plan) => plan?.rateLimit !== undefined)) addCodes(codes, ['CHORUS_RATE_LIMITED']);
  if (limits.some((plan) => plan?.quota !== undefined)) addCodes(codes, ['CHORUS_QUOTA_EXCEEDED']);
}

/**
 * What the endpoint itself can answer besides its cases: input problems when it has input, body
 * problems when it reads a body, backend problems for the calls whose failure is not recovered by
 * onError (per service: protocol errors, breaker, bulkhead, backend credentials as configured),
 * the deadline when it waits on calls or code. Never 404/405: an unknown route is not an operation's answer.
 */
function endpointProblemCodes(endpoint: EndpointConfig, services: CoreConfig['services']): ProblemCodes {
  const codes: ProblemCodes = new Map();
  const input = endpoint.input;
  const hasInput =
    input !== undefined &&
    (input.body !== undefined ||
      [input.params, input.query, input.headers].some(
        (group) => group !== undefined && Object.keys(group).length > 0,
      ));
  if (hasInput) addCodes(codes, ['CHORUS_VALIDATION_FAILED']);
  if (input?.body !== undefined) {
    addCodes(codes, ['CHORUS_BAD_JSON', 'CHORUS_BODY_TOO_LARGE', 'CHORUS_UNSUPPORTED_MEDIA_TYPE']);
  }
  addCodes(codes, ['CHORUS_INTERNAL']);
  if (endpoint.flow.length > 0 || endpoint.response !== undefined)
    addCodes(codes, ['CHORUS_EXPRESSION_FAILED']);
  for (const step of endpoint.flow) {
    if (step.code !== undefined) addCodes(codes, ['CHORUS_CODE_STEP_FAILED', 'CHORUS_DEADLINE_EXCEEDED']);
    if (step.call === undefined) continue;
    addCodes(codes, ['CHORUS_DEADLINE_EXCEEDED']);
    const [serviceName = '', operation = ''] = step.call.split('.');
    const call: CallSubject = { step: step.id, service: serviceName, operation };
    // A step that skips or falls back on error answers for its call's failures itself.
    if ((step.onError ?? 'fail') !== 'fail') continue;
    addCodes(
      codes,
      [
        'CHORUS_UPSTREAM_STATUS',
        'CHORUS_UPSTREAM_TRANSPORT',
        'CHORUS_UPSTREAM_DECODE',
        'CHORUS_UPSTREAM_TOO_LARGE',
        'CHORUS_UPSTREAM_TIMEOUT',
      ],
      call,
    );
    const service = services[serviceName];
    if (service === undefined) continue;
    if (PROTOCOL_KINDS.has(service.kind)) addCodes(codes, ['CHORUS_UPSTREAM_PROTOCOL'], call);
    if (UNAVAILABLE_KINDS.has(service.kind)) addCodes(codes, ['CHORUS_UPSTREAM_UNAVAILABLE'], call);
    if (service.circuitBreaker !== undefined) addCodes(codes, ['CHORUS_CIRCUIT_OPEN'], call);
    if (service.bulkhead !== undefined) addCodes(codes, ['CHORUS_BULKHEAD_FULL'], call);
    if (service.auth !== undefined) addCodes(codes, ['CHORUS_UPSTREAM_AUTH'], call);
  }
  // A request that arrives while the gateway drains is refused, whatever the endpoint.
  addCodes(codes, ['CHORUS_SHUTTING_DOWN']);
  return codes;
}

/** What the examples of an endpoint name: its first backend call and its first input field. */
function problemSubject(endpoint: EndpointConfig): ProblemSubject {
  const call = endpoint.flow.find((step) => step.call !== undefined);
  const [service = 'backend', operation = 'get'] = call?.call?.split('.') ?? [];
  const input = endpoint.input;
  const firstKey = (group: object | undefined): string | undefined =>
    group === undefined ? undefined : Object.keys(group)[0];
  const param = firstKey(input?.params) ?? endpoint.path.match(/\{([^}]+)\}/)?.[1];
  const query = firstKey(input?.query);
  const header = firstKey(input?.headers);
  const bodyRequired = (input?.body as { required?: unknown } | undefined)?.required;
  const field =
    param !== undefined
      ? `params.${param}`
      : query !== undefined
        ? `query.${query}`
        : header !== undefined
          ? `headers.${header}`
          : Array.isArray(bodyRequired) && typeof bodyRequired[0] === 'string'
            ? `body.${bodyRequired[0]}`
            : 'body';
  return { step: call?.id ?? endpoint.flow[0]?.id ?? 'response', service, operation, field };
}

/** Writes one problem response per status the codes have, each with an example per code. */
function addProblemResponses(
  responses: Record<string, unknown>,
  codes: ProblemCodes,
  subject: ProblemSubject,
): void {
  const byStatus = new Map<number, ErrorCode[]>();
  // Catalogue order, so documents are stable whatever order the codes were found in.
  for (const code of errorCodes()) {
    if (!codes.has(code)) continue;
    const status = ERROR_CATALOGUE[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const content = problemContent(status, list, (code) => ({ ...subject, ...codes.get(code) }));
    const declared = responses[String(status)] as { content?: Record<string, unknown> } | undefined;
    if (declared === undefined) {
      const response: Record<string, unknown> = { description: problemDescription(status, list), content };
      if (status === 429) response.headers = { 'Retry-After': RETRY_AFTER_HEADER };
      responses[String(status)] = response;
    } else {
      // A response case of the config with the same status: it may also be a problem.
      declared.content = { ...declared.content, ...content };
    }
  }
}

const RETRY_AFTER_HEADER = {
  description: 'Seconds until the limit resets.',
  schema: { type: 'integer', minimum: 0 },
};

function problemDescription(status: number, codes: readonly ErrorCode[]): string {
  const shared = Object.values(PROBLEM_RESPONSES).find((entry) => entry.status === status);
  const titles = codes.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].title}.`);
  return [shared?.description ?? ERROR_CATALOGUE[codes[0]!].title, '', ...titles.map((t) => `- ${t}`)].join(
    '\n',
  );
}

function problemContent(
  status: number,
  codes: readonly ErrorCode[],
  subjectOf: (code: ErrorCode) => ProblemSubject,
): Record<string, unknown> {
  return {
    [PROBLEM_MEDIA_TYPE]: {
      schema: {
        allOf: [{ $ref: '#/components/schemas/Problem' }],
        properties: { status: { const: status }, code: { enum: [...codes] } },
      },
      // Named examples: portals show these instead of one built from the schema.
      examples: Object.fromEntries(
        codes.map((code) => [
          code,
          { summary: ERROR_CATALOGUE[code].title, value: problemExample(code, subjectOf(code)) },
        ]),
      ),
    },
  };
}

function problemRef(name: keyof typeof PROBLEM_RESPONSES): Record<string, unknown> {
  return { $ref: `#/components/responses/${name}` };
}

/** The shared problem responses, by component name and the status whose catalogue codes they list. */
const PROBLEM_RESPONSES = {
  BadRequest: { status: 400, description: 'The request does not match the endpoint input.' },
  Unauthorized: { status: 401, description: 'Credentials are missing or invalid.' },
  Forbidden: { status: 403, description: 'The caller may not use this endpoint.' },
  TooManyRequests: { status: 429, description: 'A rate limit or quota is spent; see Retry-After.' },
  PayloadTooLarge: { status: 413, description: 'The request body is over the size limit.' },
  UnsupportedMediaType: { status: 415, description: 'The request body is not application/json.' },
  InternalError: { status: 500, description: 'The gateway failed while answering the request.' },
  BadGateway: { status: 502, description: 'A backend failed or answered with an error.' },
  ServiceUnavailable: {
    status: 503,
    description: 'A backend is unavailable, or the gateway is shutting down.',
  },
  GatewayTimeout: { status: 504, description: 'A backend or the request deadline timed out.' },
} as const;

const GENERIC_SUBJECT: ProblemSubject = {
  step: 'lookup',
  service: 'backend',
  operation: 'get',
  field: 'params.id',
};

function problemResponses(): Record<string, Record<string, unknown>> {
  const responses: Record<string, Record<string, unknown>> = {};
  for (const [name, { status, description }] of Object.entries(PROBLEM_RESPONSES)) {
    const codes = codesOfStatus(status);
    responses[name] = { description, content: problemContent(status, codes, () => GENERIC_SUBJECT) };
  }
  return responses;
}

function errorCodes(): ErrorCode[] {
  return Object.keys(ERROR_CATALOGUE) as ErrorCode[];
}

function problemSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'An RFC 9457 problem document; extra fields may give details, such as the failing fields.',
    required: ['type', 'title', 'status', 'detail', 'code', 'hint'],
    properties: {
      type: { type: 'string', format: 'uri-reference', description: 'A URI naming the error type.' },
      title: { type: 'string', description: 'A short summary of the error type.' },
      status: { type: 'integer', minimum: 100, maximum: 599, description: 'The HTTP status.' },
      detail: { type: 'string', description: 'What went wrong with this request.' },
      code: { type: 'string', enum: errorCodes(), description: 'A stable error code clients may branch on.' },
      hint: { type: 'string', description: 'How to fix or work around the error.' },
      instance: { type: 'string', format: 'uri-reference', description: 'A URI naming this occurrence.' },
      requestId: { type: 'string', description: 'The request id, as found in the gateway log.' },
    },
    additionalProperties: true,
  };
}

/** The routes the gateway serves whatever the config, built fresh so callers may change the document. */
function builtInRoutes(): Array<{
  path: string;
  operationId: string;
  summary: string;
  responses: Record<string, unknown>;
}> {
  const statusBody = (description: string): Record<string, unknown> => ({
    description,
    content: {
      'application/json': {
        schema: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
      },
    },
  });
  return [
    {
      path: '/healthz',
      operationId: 'getHealthz',
      summary: 'Liveness: the gateway process is up.',
      responses: { '200': statusBody('The gateway is alive.') },
    },
    {
      path: '/readyz',
      operationId: 'getReadyz',
      summary: 'Readiness: the gateway accepts traffic.',
      responses: { '200': statusBody('The gateway is ready.'), '503': problemRef('ServiceUnavailable') },
    },
  ];
}
