/**
 * MediaCo's published contract against its live answers: every 2xx response in /openapi.json has
 * a schema (inferred from the response templates and the providers' types), and what each
 * endpoint really answers validates against it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type DemoBackends, startDemoBackends } from '../examples/mediaco/backends/servers.ts';
import type { Gateway } from '../src/server/server.ts';
import { startGatewayFromFile } from './support/gateway.ts';

const CONFIG = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));
const PRO_KEY = 'mediaco-demo-pro-key';

type Operation = {
  responses: Record<string, { content?: Record<string, { schema: object; example?: unknown }> }>;
};
type OpenApi = { paths: Record<string, Record<string, Operation>> };

let backends: DemoBackends;
let gateway: Gateway;
let doc: OpenApi;

before(async () => {
  backends = await startDemoBackends({ nats: false });
  gateway = await startGatewayFromFile(path.resolve(CONFIG), { ...process.env, ...backends.gatewayEnv() });
  const res = await fetch(`${gateway.url}/openapi.json`);
  doc = (await res.json()) as OpenApi;
});

after(async () => {
  await gateway?.close();
  await backends?.close();
});

/** The schema of a 2xx answer of an operation. */
function schemaOf(method: string, route: string, status: string): object {
  const schema = doc.paths[route]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  assert.ok(schema, `${method} ${route} ${status} has a schema`);
  return schema;
}

async function call(
  method: string,
  target: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway.url}${target}`, {
    method,
    headers: {
      'x-api-key': PRO_KEY,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe('MediaCo: the OpenAPI document against the live answers', () => {
  test('the document is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
  });

  test('every 2xx response has a non-empty schema and an example', () => {
    let count = 0;
    for (const [route, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!status.startsWith('2')) continue;
          const media = response.content?.['application/json'];
          assert.ok(media, `${method} ${route} ${status} has a JSON body`);
          assert.ok(
            Object.keys(media.schema).length > 0,
            `${method} ${route} ${status}: the schema is not {}`,
          );
          // The example is inferred for the config's endpoints (the built-in routes document their own).
          if (route.startsWith('/catalog/'))
            assert.notEqual(media.example, undefined, `${method} ${route} ${status} has an example`);
          count++;
        }
      }
    }
    assert.ok(count >= 6, `${count} 2xx responses`);
  });

  test('each endpoint answers what its schema says, for every provider and path taken', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const calls: [string, string, string, unknown?][] = [
      ['get', '/catalog/items/{id}', '/catalog/items/mc-0001'],
      ['get', '/catalog/items/{id}', '/catalog/items/mc-0101'],
      ['get', '/catalog/items/{id}', '/catalog/items/mc-0201'],
      ['get', '/catalog/items/{id}', '/catalog/items/mc-0301'],
      ['get', '/catalog/search', '/catalog/search?q=night&limit=50'],
      ['get', '/catalog/search', '/catalog/search?q=night&type=album'],
      ['get', '/catalog/items/{id}/related', '/catalog/items/mc-0001/related'],
      [
        'post',
        '/catalog/items/{id}/reviews',
        '/catalog/items/mc-0002/reviews',
        { score: 9, author: 'Ann', text: 'Good.' },
      ],
    ];
    for (const [method, route, target, body] of calls) {
      const answer = await call(method.toUpperCase(), target, body);
      assert.ok(
        answer.status >= 200 && answer.status < 300,
        `${target}: ${answer.status} ${JSON.stringify(answer.body)}`,
      );
      const validate = ajv.compile(schemaOf(method, route, String(answer.status)));
      assert.ok(
        validate(answer.body),
        `${method} ${target}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body).slice(0, 500)}`,
      );
    }
  });
});
