import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { deriveOperationId, resolveOperationIds } from '../config/operation-ids.ts';
import { ERROR_CATALOGUE } from '../errors/catalogue.ts';
import { configSchema, openApiDocument as generateOpenApi } from '../modules.ts';
import { generateOpenApi as generateOpenApiWith, type OpenApiDocument } from './openapi.ts';

const config = configSchema.parse({
  services: {
    svc: { kind: 'http', url: 'http://127.0.0.1:1', operations: { op: { path: '/x' } } },
  },
  endpoints: [
    {
      method: 'GET',
      path: '/catalog/items/{id}/variants/{variant}',
      summary: 'One variant of an item',
      description: 'Reads the item from the backend.',
      tags: ['catalog'],
      input: {
        params: { id: { type: 'integer', minimum: 1, description: 'The item id.', example: 42 } },
        query: {
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          sort: { enum: ['asc', 'desc'], default: 'asc', required: true },
        },
        headers: { 'x-tenant': { required: true, pattern: '^[a-z]+$', minLength: 2, maxLength: 16 } },
      },
      flow: [{ id: 'a', call: 'svc.op' }],
    },
    {
      id: 'createOrder',
      method: 'POST',
      path: '/orders',
      input: {
        body: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } },
      },
      flow: [{ id: 'total', map: { ok: true } }],
      response: { status: 201 },
    },
    { method: 'GET', path: '/', flow: [{ id: 'hello', map: 'hi' }] },
  ],
});

type Operation = Record<string, unknown>;
type Parameter = { name: string; in: string; required: boolean; schema: Record<string, unknown> };

function operation(document: OpenApiDocument, path: string, method: string): Operation {
  const found = document.paths[path]?.[method];
  assert.ok(found, `${method.toUpperCase()} ${path} is documented`);
  return found;
}

function parameters(op: Operation): Parameter[] {
  return (op.parameters ?? []) as Parameter[];
}

type Example = { value: Record<string, unknown> & { code: string; status: number; type: string } };
type Response = {
  content?: Record<
    string,
    { schema: { properties: { code: { enum: string[] } } }; examples?: Record<string, Example> }
  >;
};

/** The catalogue codes of each problem response of an operation, by status. */
function problemCodes(op: Operation): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const [status, response] of Object.entries(op.responses as Record<string, Response>)) {
    const media = response.content?.['application/problem+json'];
    if (media !== undefined) out[Number(status)] = media.schema.properties.code.enum;
  }
  return out;
}

function responseCodes(op: Operation): string[] {
  return Object.keys(op.responses as Record<string, unknown>).sort();
}

describe('generateOpenApi', () => {
  test('the document is valid OpenAPI 3.1 and JSON-serialisable', async () => {
    const document = generateOpenApi(config, { serverUrl: 'https://api.example.com' });
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(document)));
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
  });

  test('info defaults to "Chorus API" 1.0.0 and servers appear only when a server URL is given', () => {
    const plain = generateOpenApi(config);
    assert.deepEqual(plain.info, { title: 'Chorus API', version: '1.0.0' });
    assert.equal(plain.servers, undefined);

    const custom = generateOpenApi(config, {
      title: 'Shop',
      version: '2.3.0',
      serverUrl: 'https://shop.test',
    });
    assert.deepEqual(custom.info, { title: 'Shop', version: '2.3.0' });
    assert.deepEqual(custom.servers, [{ url: 'https://shop.test' }]);
  });

  test('every {name} in the path is a required path parameter, declared or not', () => {
    const op = operation(generateOpenApi(config), '/catalog/items/{id}/variants/{variant}', 'get');
    const pathParams = parameters(op).filter((param) => param.in === 'path');
    assert.deepEqual(pathParams, [
      {
        name: 'id',
        in: 'path',
        required: true,
        description: 'The item id.',
        example: 42,
        schema: { type: 'integer', minimum: 1, description: 'The item id.', examples: [42] },
      },
      { name: 'variant', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  test('query and header parameters carry their schema and are required only when declared so', () => {
    const op = operation(generateOpenApi(config), '/catalog/items/{id}/variants/{variant}', 'get');
    const byName = new Map(parameters(op).map((param) => [param.name, param]));
    assert.deepEqual(byName.get('limit'), {
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    });
    assert.deepEqual(byName.get('sort'), {
      name: 'sort',
      in: 'query',
      required: true,
      schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
    });
    assert.deepEqual(byName.get('x-tenant'), {
      name: 'x-tenant',
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 16 },
    });
  });

  test('operation ids are the configured id or derived from method and path', () => {
    const document = generateOpenApi(config);
    assert.equal(
      operation(document, '/catalog/items/{id}/variants/{variant}', 'get').operationId,
      'getCatalogItemsByIdVariantsByVariant',
    );
    assert.equal(operation(document, '/orders', 'post').operationId, 'createOrder');
    assert.equal(operation(document, '/', 'get').operationId, 'getRoot');
  });

  test('summary, description and tags are copied from the endpoint', () => {
    const document = generateOpenApi(config);
    const op = operation(document, '/catalog/items/{id}/variants/{variant}', 'get');
    assert.equal(op.summary, 'One variant of an item');
    assert.equal(op.description, 'Reads the item from the backend.');
    assert.deepEqual(op.tags, ['catalog']);
    assert.deepEqual(
      document.tags?.map((tag) => tag.name),
      ['catalog', 'gateway'],
    );
  });

  test('a body schema becomes a required application/json request body', () => {
    const op = operation(generateOpenApi(config), '/orders', 'post');
    assert.deepEqual(op.requestBody, {
      required: true,
      content: {
        'application/json': {
          schema: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } },
        },
      },
    });
  });

  test('the success response uses the configured numeric status with the schema inferred from the flow', () => {
    const document = generateOpenApi(config);
    const responses = operation(document, '/orders', 'post').responses as Record<string, unknown>;
    assert.deepEqual(responses['201'], {
      description: 'Successful response.',
      content: {
        'application/json': {
          schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
          example: { ok: true },
        },
      },
    });
    assert.equal(responses['200'], undefined);
  });

  test('an endpoint with a call step and input lists its input, flow and backend codes by status', () => {
    const op = operation(generateOpenApi(config), '/catalog/items/{id}/variants/{variant}', 'get');
    assert.deepEqual(problemCodes(op), {
      400: ['CHORUS_VALIDATION_FAILED'],
      500: ['CHORUS_EXPRESSION_FAILED', 'CHORUS_INTERNAL'],
      502: [
        'CHORUS_UPSTREAM_STATUS',
        'CHORUS_UPSTREAM_TRANSPORT',
        'CHORUS_UPSTREAM_DECODE',
        'CHORUS_UPSTREAM_TOO_LARGE',
      ],
      503: ['CHORUS_SHUTTING_DOWN'],
      504: ['CHORUS_UPSTREAM_TIMEOUT', 'CHORUS_DEADLINE_EXCEEDED'],
    });
  });

  test('an endpoint with a body but no call step lists body problems but no backend ones', () => {
    const op = operation(generateOpenApi(config), '/orders', 'post');
    assert.deepEqual(responseCodes(op), ['201', '400', '413', '415', '500', '503']);
    assert.deepEqual(problemCodes(op)[400], ['CHORUS_BAD_JSON', 'CHORUS_VALIDATION_FAILED']);
  });

  test('an endpoint without input or call steps lists only the 500 and shutting-down problems', () => {
    const op = operation(generateOpenApi(config), '/', 'get');
    assert.deepEqual(responseCodes(op), ['200', '500', '503']);
  });

  test('no operation lists the route-not-found 404 or 405: they are not answers of an endpoint', () => {
    const document = generateOpenApi(config);
    for (const item of Object.values(document.paths)) {
      for (const op of Object.values(item)) {
        const codes = Object.values(problemCodes(op)).flat();
        assert.ok(!codes.includes('CHORUS_ROUTE_NOT_FOUND') && !codes.includes('CHORUS_METHOD_NOT_ALLOWED'));
      }
    }
  });

  test('every problem example is the document the gateway answers: a catalogue type, the code, its status, no filler', () => {
    const document = generateOpenApi(config);
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(document.components.schemas.Problem!);
    let seen = 0;
    for (const item of Object.values(document.paths)) {
      for (const op of Object.values(item)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, Response>)) {
          const media = response.content?.['application/problem+json'];
          if (media === undefined) continue;
          assert.deepEqual(Object.keys(media.examples ?? {}), media.schema.properties.code.enum);
          for (const [code, { value }] of Object.entries(media.examples ?? {})) {
            seen++;
            assert.equal(validate(value), true, JSON.stringify(validate.errors));
            assert.equal(value.code, code);
            assert.equal(value.status, Number(status));
            assert.equal(value.type, `https://chorus.dev/errors#${code.toLowerCase()}`);
            assert.equal(value.title, ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].title);
            assert.doesNotMatch(JSON.stringify(value), /additionalProp\d|path\/index\.html|"string"/);
          }
        }
      }
    }
    assert.ok(seen > 10, `${seen} examples checked`);
  });

  test('backend examples name the step, service and operation the endpoint calls', () => {
    const op = operation(generateOpenApi(config), '/catalog/items/{id}/variants/{variant}', 'get');
    const example = (op.responses as Record<string, Response>)['504']?.content?.['application/problem+json']
      ?.examples?.CHORUS_UPSTREAM_TIMEOUT?.value;
    assert.equal(example?.detail, 'service "svc" operation "op" did not answer within 5000 ms');
    assert.deepEqual([example?.step, example?.service, example?.operation], ['a', 'svc', 'op']);
    const invalid = (op.responses as Record<string, Response>)['400']?.content?.['application/problem+json']
      ?.examples?.CHORUS_VALIDATION_FAILED?.value;
    assert.deepEqual(invalid?.errors, [{ field: 'params.id', message: 'is required' }]);
  });

  test('a step that skips on error adds no backend codes; service policies add theirs', () => {
    const document = generateOpenApi(
      configSchema.parse({
        services: {
          flaky: { kind: 'http', url: 'http://127.0.0.1:1', operations: { op: { path: '/x' } } },
          guarded: {
            kind: 'graphql',
            url: 'http://127.0.0.1:1/graphql',
            circuitBreaker: { consecutiveFailures: 5, cooldown: '10s' },
            bulkhead: { maxConcurrent: 4 },
            operations: { op: { query: '{ a }' } },
          },
        },
        endpoints: [
          { method: 'GET', path: '/skip', flow: [{ id: 'a', call: 'flaky.op', onError: 'skip' }] },
          { method: 'GET', path: '/guarded', flow: [{ id: 'b', call: 'guarded.op' }] },
        ],
      }),
    );
    const skip = problemCodes(operation(document, '/skip', 'get'));
    assert.equal(skip[502], undefined);
    assert.deepEqual(skip[504], ['CHORUS_DEADLINE_EXCEEDED']);
    const guarded = problemCodes(operation(document, '/guarded', 'get'));
    assert.ok(guarded[502]?.includes('CHORUS_UPSTREAM_PROTOCOL'));
    assert.deepEqual(guarded[503], ['CHORUS_CIRCUIT_OPEN', 'CHORUS_BULKHEAD_FULL', 'CHORUS_SHUTTING_DOWN']);
  });

  test('the shared problem responses carry an example per code, not one built from the schema', () => {
    const badGateway = generateOpenApi(config).components.responses.BadGateway as Response;
    const examples = badGateway.content?.['application/problem+json']?.examples;
    assert.deepEqual(Object.keys(examples ?? {}), [
      'CHORUS_UPSTREAM_STATUS',
      'CHORUS_UPSTREAM_TRANSPORT',
      'CHORUS_UPSTREAM_PROTOCOL',
      'CHORUS_UPSTREAM_DECODE',
      'CHORUS_UPSTREAM_TOO_LARGE',
      'CHORUS_UPSTREAM_AUTH',
    ]);
  });

  test('the Problem schema lists every catalogue code and the RFC 9457 fields', () => {
    const problem = generateOpenApi(config).components.schemas.Problem as {
      required: string[];
      properties: Record<string, { enum?: string[] }>;
    };
    assert.deepEqual(problem.properties.code?.enum, Object.keys(ERROR_CATALOGUE));
    assert.deepEqual(problem.required, ['type', 'title', 'status', 'detail', 'code', 'hint']);
    assert.ok(problem.properties.requestId);
  });

  test('the built-in /healthz and /readyz routes are documented under the gateway tag', () => {
    const document = generateOpenApi(configSchema.parse({}));
    for (const path of ['/healthz', '/readyz']) {
      const op = operation(document, path, 'get');
      assert.deepEqual(op.tags, ['gateway']);
      assert.ok((op.responses as Record<string, unknown>)['200']);
    }
    assert.deepEqual(Object.keys(document.paths).sort(), ['/healthz', '/readyz']);
  });
});

describe('generateOpenApi with inbound policies', () => {
  const secured = configSchema.parse({
    portal: { title: 'Secured', version: '3.0.0' },
    auth: {
      apiKey: { header: 'x-shop-key' },
      jwt: {
        issuer: 'https://issuer.test',
        audience: 'shop',
        jwksUrl: 'https://issuer.test/jwks.json',
        algorithms: ['RS256'],
      },
    },
    policies: { auth: 'apiKey', rateLimit: { limit: 10, window: '1s' } },
    endpoints: [
      { method: 'GET', path: '/default', flow: [] },
      {
        method: 'GET',
        path: '/scoped',
        policies: { auth: { methods: ['jwt', 'apiKey'], scopes: ['orders:read'] } },
        flow: [],
      },
      { method: 'GET', path: '/open', policies: { auth: false, rateLimit: false }, flow: [] },
      { method: 'GET', path: '/maybe', policies: { auth: { anonymous: true } }, flow: [] },
    ],
  });
  const document = generateOpenApi(secured);

  test('the document with security schemes is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)));
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
  });

  test('info comes from portal.title and portal.version', () => {
    assert.deepEqual(document.info, { title: 'Secured', version: '3.0.0' });
  });

  test('API key and JWT bearer schemes are documented from auth settings', () => {
    assert.deepEqual(document.components.securitySchemes?.apiKey, {
      type: 'apiKey',
      in: 'header',
      name: 'x-shop-key',
      description: 'An API key of a consumer, in the x-shop-key header.',
    });
    assert.equal(document.components.securitySchemes?.bearerJwt?.scheme, 'bearer');
    assert.equal(document.components.securitySchemes?.bearerJwt?.bearerFormat, 'JWT');
  });

  test('each endpoint lists the methods of its own auth policy, else the default, with 401/403/429', () => {
    const byPath = (path: string): Operation => operation(document, path, 'get');
    assert.deepEqual(byPath('/default').security, [{ apiKey: [] }]);
    assert.deepEqual(
      responseCodes(byPath('/default')).filter((c) => c >= '400' && c < '500'),
      ['401', '429'],
    );
    assert.deepEqual(byPath('/scoped').security, [{ bearerJwt: ['orders:read'] }, { apiKey: [] }]);
    assert.ok(responseCodes(byPath('/scoped')).includes('403'));
    assert.equal(byPath('/open').security, undefined);
    assert.deepEqual(
      responseCodes(byPath('/open')).filter((c) => c >= '400' && c < '500'),
      [],
    );
    // anonymous callers are let through: an empty requirement is one of the alternatives.
    assert.deepEqual(byPath('/maybe').security, [{ apiKey: [] }, { bearerJwt: [] }, {}]);
  });

  test('auth and rate-limit problems list only the codes those policies answer with', () => {
    const scoped = operation(document, '/scoped', 'get');
    const codes = problemCodes(scoped);
    assert.deepEqual(
      [codes[401], codes[403], codes[429]],
      [['CHORUS_UNAUTHORIZED'], ['CHORUS_FORBIDDEN'], ['CHORUS_RATE_LIMITED']],
    );
    const tooMany = (scoped.responses as Record<string, { headers?: Record<string, unknown> }>)['429'];
    assert.ok(tooMany?.headers?.['Retry-After'], '429 documents Retry-After');
  });

  test('plan limits add 429 codes where auth names the consumer', () => {
    const planned = generateOpenApi(
      configSchema.parse({
        plans: { free: { quota: { limit: 1000, period: 'day' } } },
        policies: { auth: 'apiKey' },
        endpoints: [
          { method: 'GET', path: '/keyed', flow: [] },
          { method: 'GET', path: '/public', policies: { auth: false }, flow: [] },
        ],
      }),
    );
    assert.deepEqual(problemCodes(operation(planned, '/keyed', 'get'))[429], ['CHORUS_QUOTA_EXCEEDED']);
    assert.equal(problemCodes(operation(planned, '/public', 'get'))[429], undefined);
  });

  test('without any auth policy there are no security schemes', () => {
    assert.equal(generateOpenApi(config).components.securitySchemes, undefined);
  });
});

describe('generateOpenApi asks the inbound policy modules', () => {
  test('a module passed in contributes its security and responses to the endpoints it applies to', () => {
    const limited = configSchema.parse({
      policies: { rateLimit: { limit: 5, window: '1s' } },
      endpoints: [
        { method: 'GET', path: '/a', flow: [] },
        { method: 'GET', path: '/b', policies: { rateLimit: false }, flow: [] },
      ],
    });
    const asked: unknown[] = [];
    const document = generateOpenApiWith(limited, {
      inboundPolicies: [
        {
          name: 'rateLimit',
          order: 40,
          schema: z.unknown(),
          create: () => undefined,
          openapi: (config) => {
            asked.push(config);
            return {
              security: [{ token: [] }],
              securitySchemes: { token: { type: 'http', scheme: 'bearer' } },
              responses: { 429: 'TooManyRequests' },
            };
          },
        },
      ],
    });
    assert.equal(asked.length, 1);
    assert.deepEqual(operation(document, '/a', 'get').security, [{ token: [] }]);
    assert.ok(responseCodes(operation(document, '/a', 'get')).includes('429'));
    assert.equal(operation(document, '/b', 'get').security, undefined);
    assert.deepEqual(document.components.securitySchemes, { token: { type: 'http', scheme: 'bearer' } });
  });
});

describe('deriveOperationId', () => {
  test('it joins the lower-case method with the path words, naming parameters with By', () => {
    assert.equal(deriveOperationId('GET', '/catalog/items/{id}'), 'getCatalogItemsById');
    assert.equal(
      deriveOperationId('DELETE', '/user-groups/{group_id}/members'),
      'deleteUserGroupsByGroupIdMembers',
    );
    assert.equal(deriveOperationId('GET', '/files/{name}.json'), 'getFilesByNameJson');
    assert.equal(deriveOperationId('POST', '/'), 'postRoot');
  });

  test('colliding ids get a numeric suffix in config order, after explicit ids are reserved', () => {
    const ids = resolveOperationIds([
      { method: 'GET', path: '/a-b' },
      { method: 'GET', path: '/a_b' },
      { id: 'getAB', method: 'GET', path: '/other' },
    ]);
    assert.deepEqual(ids, ['getAB2', 'getAB3', 'getAB']);
  });
});
