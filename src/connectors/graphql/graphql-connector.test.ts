import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { type Logger, pino } from 'pino';
import {
  type GraphqlBackend,
  type GraphqlBackendOptions,
  startGraphqlBackend,
} from '../../../test/support/graphql-backend.ts';
import { formatIssue } from '../../config/issues.ts';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { compilePlan } from '../../gateway.ts';
import { loadConfigText } from '../../modules.ts';
import { createGraphqlConnector } from './graphql-connector.ts';
import { graphqlServiceSchema } from './schema.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };

const backends: GraphqlBackend[] = [];
const connectors: Connector[] = [];

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
  await Promise.all(backends.map((backend) => backend.close()));
});

async function startBackend(options: GraphqlBackendOptions = {}): Promise<GraphqlBackend> {
  const backend = await startGraphqlBackend(options);
  backends.push(backend);
  return backend;
}

/** A logger whose lines can be read back, to see the warnings a load gives. */
function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const captured = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  return { logger: captured, lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

async function create(
  raw: Record<string, unknown>,
  options: { service?: string; baseDir?: string; logger?: Logger } = {},
): Promise<Connector | { issues: ConnectorIssue[] }> {
  return createGraphqlConnector(graphqlServiceSchema.parse({ kind: 'graphql', ...raw }), {
    service: options.service ?? 'anime',
    baseDir: options.baseDir ?? '.',
    logger: options.logger ?? logger,
  });
}

/** Builds a connector from raw config, through the schema so defaults apply as at load. */
async function connect(
  raw: Record<string, unknown>,
  options: { service?: string; baseDir?: string; logger?: Logger } = {},
): Promise<Connector> {
  const created = await create(raw, options);
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

async function loadIssues(raw: Record<string, unknown>, baseDir = '.'): Promise<ConnectorIssue[]> {
  const created = await create(raw, { baseDir });
  if (!('issues' in created)) {
    connectors.push(created);
    assert.fail('expected load-time issues');
  }
  return created.issues;
}

function callOf(operation: string, overrides: Partial<ConnectorCall> = {}): ConnectorCall {
  return {
    operation,
    input: {},
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    deadlineBound: false,
    ...overrides,
  };
}

function isChorusError(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ChorusError, `expected a ChorusError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

const SHOW_QUERY = 'query Show($id: ID!) { show(id: $id) { id title genre episodes { number } } }';

describe('graphql connector calls', () => {
  test('a query sends its document, operation name and input.variables and answers the data', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.url, operations: { getShow: { query: SHOW_QUERY } } });
    const result = await connector.call(
      callOf('getShow', { input: { variables: { id: '1' } } }),
      callContext,
    );
    assert.deepEqual(result.output, {
      show: { id: '1', title: 'Cowboy Bebop', genre: 'ANIME', episodes: [{ number: 1 }] },
    });
    const received = backend.requests.at(-1)!;
    assert.deepEqual(received.body, { query: SHOW_QUERY, operationName: 'Show', variables: { id: '1' } });
    assert.equal(received.headers['content-type'], 'application/json');
  });

  test('a mutation runs with nested input variables', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: {
        rate: {
          query: 'mutation ($id: ID!, $rating: RatingInput!) { rate(id: $id, rating: $rating) { id score } }',
        },
      },
    });
    const result = await connector.call(
      callOf('rate', { input: { variables: { id: '2', rating: { score: 9, comment: 'great' } } } }),
      callContext,
    );
    assert.deepEqual(result.output, { rate: { id: '2', score: 9 } });
    assert.equal(backend.requests.at(-1)!.body.operationName, undefined);
  });

  test('operationName picks one operation of a document that holds several', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: {
        list: {
          query: 'query One { show(id: "1") { title } } query Dramas { shows(genre: DRAMA) { title } }',
          operationName: 'Dramas',
        },
      },
    });
    const result = await connector.call(callOf('list'), callContext);
    assert.deepEqual(result.output, { shows: [{ title: 'The Wire' }] });
    assert.deepEqual(backend.requests.at(-1)!.body.variables, {});
  });

  test('a document is read from a file relative to the config directory', async () => {
    const backend = await startBackend();
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-graphql-'));
    await writeFile(path.join(dir, 'shows.graphql'), '# all shows\nquery Shows { shows { id } }\n');
    const connector = await connect(
      { url: backend.url, operations: { shows: { file: 'shows.graphql' } } },
      { baseDir: dir },
    );
    const result = await connector.call(callOf('shows'), callContext);
    assert.deepEqual(result.output, { shows: [{ id: '1' }, { id: '2' }] });
  });

  test('static, propagated and input headers reach the service and the body stays JSON', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      headers: { Authorization: 'Bearer secret' },
      operations: { shows: { query: '{ shows { id } }' } },
    });
    await connector.call(
      callOf('shows', {
        headers: { 'x-request-id': 'req-7' },
        input: { headers: { 'X-Tenant': 'eu', 'Content-Type': 'text/plain' } },
      }),
      callContext,
    );
    const headers = backend.requests.at(-1)!.headers;
    assert.equal(headers.authorization, 'Bearer secret');
    assert.equal(headers['x-request-id'], 'req-7');
    assert.equal(headers['x-tenant'], 'eu');
    assert.equal(headers['content-type'], 'application/json');
    assert.match(String(headers.accept), /application\/graphql-response\+json/);
  });

  test('input.variables that is not a map fails with CHORUS_INTERNAL before calling the service', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.url, operations: { getShow: { query: SHOW_QUERY } } });
    const before = backend.requests.length;
    await assert.rejects(
      connector.call(callOf('getShow', { input: { variables: ['1'] } }), callContext),
      isChorusError('CHORUS_INTERNAL'),
    );
    assert.equal(backend.requests.length, before);
  });
});

describe('graphql connector errors', () => {
  test('errors in an answer fail with CHORUS_UPSTREAM_PROTOCOL naming the service and keeping the messages', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.url, operations: { getShow: { query: SHOW_QUERY } } });
    await assert.rejects(
      connector.call(callOf('getShow', { input: { variables: { id: '404' } } }), callContext),
      (error) => {
        isChorusError('CHORUS_UPSTREAM_PROTOCOL')(error);
        const chorusError = error as ChorusError;
        assert.equal(
          chorusError.message,
          'service "anime" operation "getShow" answered GraphQL errors: show 404 not found',
        );
        assert.deepEqual(chorusError.extras, {
          service: 'anime',
          operation: 'getShow',
          graphqlErrors: ['show 404 not found'],
        });
        const data = chorusError.data as { status: number; body: { data: unknown; errors: unknown[] } };
        assert.equal(data.status, 200);
        assert.deepEqual(data.body.data, { show: null });
        assert.equal(data.body.errors.length, 1);
        return true;
      },
    );
  });

  test('with errors: partial, data and errors are answered together as {data, errors}', async () => {
    const backend = await startBackend();
    const { logger: warnings, lines } = capturingLogger();
    const connector = await connect({
      url: backend.url,
      operations: {
        both: {
          query: '{ one: show(id: "1") { title } gone: show(id: "404") { title } }',
          errors: 'partial',
        },
      },
    });
    const result = await connector.call(callOf('both'), { requestId: 'r', logger: warnings });
    const output = result.output as { data: unknown; errors: { message: string; path: string[] }[] };
    assert.deepEqual(output.data, { one: { title: 'Cowboy Bebop' }, gone: null });
    assert.equal(output.errors.length, 1);
    assert.equal(output.errors[0]!.message, 'show 404 not found');
    assert.deepEqual(output.errors[0]!.path, ['gone']);
    assert.equal(lines()[0]!.service, 'anime');
  });

  test('with errors: partial, an answer without errors is {data, errors: []}', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: { shows: { query: '{ shows(limit: 1) { id } }', errors: 'partial' } },
    });
    const result = await connector.call(callOf('shows'), callContext);
    assert.deepEqual(result.output, { data: { shows: [{ id: '1' }] }, errors: [] });
  });

  test('with errors: partial, errors without data still fail', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: { must: { query: '{ mustWork }', errors: 'partial' } },
    });
    await assert.rejects(connector.call(callOf('must'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_PROTOCOL')(error);
      assert.deepEqual((error as ChorusError).extras.graphqlErrors, ['the storage is down']);
      return true;
    });
  });

  test('an error status whose body holds GraphQL errors fails with CHORUS_UPSTREAM_STATUS carrying the messages', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      introspect: false,
      // Valid syntax, but the server's schema has no such field: it answers 400 with errors.
      operations: { nope: { query: '{ nosuch }' } },
    });
    await assert.rejects(connector.call(callOf('nope'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_STATUS')(error);
      const chorusError = error as ChorusError;
      assert.equal(chorusError.extras.upstreamStatus, 400);
      assert.deepEqual(chorusError.extras.graphqlErrors, ['Cannot query field "nosuch" on type "Query".']);
      assert.match(chorusError.message, /answered 400: Cannot query field "nosuch"/);
      return true;
    });
  });

  test('an error status without GraphQL errors fails with CHORUS_UPSTREAM_STATUS', async () => {
    const backend = await startBackend({
      override: (_request, res) => {
        res.writeHead(503, { 'content-type': 'text/html' });
        res.end('<h1>maintenance</h1>');
        return true;
      },
    });
    const connector = await connect({
      url: backend.url,
      introspect: false,
      operations: { shows: { query: '{ shows { id } }' } },
    });
    await assert.rejects(connector.call(callOf('shows'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_STATUS')(error);
      assert.equal((error as ChorusError).retryable, true);
      assert.equal((error as ChorusError).extras.graphqlErrors, undefined);
      return true;
    });
  });

  test('a success answer that is not a GraphQL response fails with CHORUS_UPSTREAM_DECODE', async () => {
    const bodies = [
      { type: 'text/html', body: '<html>login</html>' },
      { type: 'application/json', body: '[1,2]' },
      { type: 'application/json', body: '{"result": 1}' },
      { type: 'application/json', body: '{"data": {}, "errors": "bad"}' },
    ];
    let next = 0;
    const backend = await startBackend({
      override: (_request, res) => {
        const answer = bodies[next++]!;
        res.writeHead(200, { 'content-type': answer.type });
        res.end(answer.body);
        return true;
      },
    });
    const connector = await connect({
      url: backend.url,
      introspect: false,
      operations: { shows: { query: '{ shows { id } }' } },
    });
    for (let n = 0; n < bodies.length; n++) {
      await assert.rejects(
        connector.call(callOf('shows'), callContext),
        isChorusError('CHORUS_UPSTREAM_DECODE'),
      );
    }
  });

  test('an answer over maxResponseBytes fails with CHORUS_UPSTREAM_TOO_LARGE', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      introspect: false,
      maxResponseBytes: '1kb',
      operations: { big: { query: 'query ($size: Int!) { big(size: $size) }' } },
    });
    await assert.rejects(
      connector.call(callOf('big', { input: { variables: { size: 5000 } } }), callContext),
      isChorusError('CHORUS_UPSTREAM_TOO_LARGE'),
    );
    const small = await connector.call(callOf('big', { input: { variables: { size: 10 } } }), callContext);
    assert.deepEqual(small.output, { big: 'xxxxxxxxxx' });
  });

  test('a slow answer fails with CHORUS_UPSTREAM_TIMEOUT after timeoutMs, or CHORUS_DEADLINE_EXCEEDED when deadline-bound', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: { slow: { query: '{ slow(ms: 1000) }' } },
    });
    const started = performance.now();
    await assert.rejects(connector.call(callOf('slow', { timeoutMs: 150 }), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_TIMEOUT')(error);
      assert.equal((error as Error).message, 'service "anime" operation "slow" did not answer within 150 ms');
      return true;
    });
    assert.ok(performance.now() - started < 1000);
    await assert.rejects(
      connector.call(callOf('slow', { timeoutMs: 100, deadlineBound: true }), callContext),
      isChorusError('CHORUS_DEADLINE_EXCEEDED'),
    );
  });

  test("aborting the caller's signal rejects with its reason", async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: { slow: { query: '{ slow(ms: 1000) }' } },
    });
    const controller = new AbortController();
    const reason = new Error('client gone');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(
      connector.call(callOf('slow', { signal: controller.signal }), callContext),
      (error) => error === reason,
    );
  });
});

describe('graphql connector loading', () => {
  test('a syntax error in a document is a load issue at its query, with the line and column inside it', async () => {
    const issues = await loadIssues({
      url: 'http://127.0.0.1:1/graphql',
      operations: { broken: { query: '{\n  show(id: "1") {\n    title\n' } },
    });
    assert.deepEqual(issues, [
      {
        path: ['operations', 'broken', 'query'],
        message: 'the query (line 4, column 1): Syntax Error: Expected Name, found <EOF>.',
      },
    ]);
  });

  test('a document that does not fit the introspected schema is a load issue at its query', async () => {
    const backend = await startBackend();
    const issues = await loadIssues({
      url: backend.url,
      operations: {
        good: { query: SHOW_QUERY },
        bad: { query: '{ show(id: 1) { title rating } }' },
      },
    });
    assert.deepEqual(issues, [
      {
        path: ['operations', 'bad', 'query'],
        message: 'the query (line 1, column 23): Cannot query field "rating" on type "Show".',
      },
    ]);
  });

  test('a variable type the schema does not know is a load issue', async () => {
    const backend = await startBackend();
    const issues = await loadIssues({
      url: backend.url,
      operations: { bad: { query: 'query ($id: Identifier!) { show(id: $id) { title } }' } },
    });
    assert.deepEqual(issues, [
      {
        path: ['operations', 'bad', 'query'],
        message: 'the query (line 1, column 13): Unknown type "Identifier".',
      },
    ]);
  });

  test('a service that refuses introspection loads with a warning; documents are checked for syntax only', async () => {
    const backend = await startBackend({ introspection: false });
    const { logger: warnings, lines } = capturingLogger();
    const connector = await connect(
      { url: backend.url, operations: { getShow: { query: SHOW_QUERY } } },
      { logger: warnings },
    );
    const warning = lines()[0]!;
    assert.equal(warning.service, 'anime');
    assert.match(String(warning.reason), /introspection/);
    assert.match(String(warning.msg), /syntax only/);
    const result = await connector.call(
      callOf('getShow', { input: { variables: { id: '2' } } }),
      callContext,
    );
    assert.equal((result.output as { show: { title: string } }).show.title, 'The Wire');
    assert.equal(connector.describe()[0]!.outputSchema, undefined);
  });

  test('an unreachable service loads with a warning instead of failing the load', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const { logger: warnings, lines } = capturingLogger();
    await connect(
      { url: `http://127.0.0.1:${port}/graphql`, operations: { getShow: { query: SHOW_QUERY } } },
      { logger: warnings },
    );
    assert.match(String(lines()[0]!.reason), /ECONNREFUSED/);
  });

  test('document problems found without a server are load issues at the key at fault', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-graphql-'));
    await writeFile(path.join(dir, 'two.graphql'), 'query A { shows { id } }\nquery B { shows { id } }\n');
    const issues = await loadIssues(
      {
        url: 'http://127.0.0.1:1/graphql',
        introspect: false,
        operations: {
          none: {},
          both: { query: '{ shows { id } }', file: 'x.graphql' },
          missing: { file: 'missing.graphql' },
          two: { file: 'two.graphql' },
          wrongName: { file: 'two.graphql', operationName: 'C' },
          sub: { query: 'subscription { shows { id } }' },
          sdl: { query: 'type Foo { id: ID }' },
        },
      },
      dir,
    );
    assert.deepEqual(
      issues.map((issue) => [issue.path.slice(1).join('.'), issue.message]),
      [
        ['none', 'an operation needs a document: set query or file'],
        ['both.file', 'give the document as query or as file, not both'],
        ['missing.file', 'cannot read document "missing.graphql": ENOENT'],
        ['two.file', 'document two.graphql holds 2 operations; set operationName to pick one'],
        ['wrongName.operationName', 'document two.graphql has no operation named "C" (operations: A, B)'],
        ['sub.query', 'the query: subscriptions are not supported; use a query or a mutation'],
        ['sdl.query', 'the query may hold only operations and fragments, not a ObjectTypeDefinition'],
      ],
    );
  });

  test('describe() lists each operation with JSON Schemas of its variables and data', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.url,
      operations: {
        getShow: { query: SHOW_QUERY, summary: 'One show by id.' },
        rate: {
          query:
            'mutation Rate($id: ID!, $rating: RatingInput!) { rate(id: $id, rating: $rating) { score } }',
        },
      },
    });
    assert.equal(connector.kind, 'graphql');
    const [getShow, rate] = connector.describe();
    assert.equal(getShow!.name, 'getShow');
    assert.equal(getShow!.summary, 'One show by id.');
    assert.equal(getShow!.operationType, 'query');
    assert.equal(getShow!.operationName, 'Show');
    assert.deepEqual(getShow!.requiredParams, []);
    const input = getShow!.inputSchema as { properties: { variables: unknown } };
    assert.deepEqual(input.properties.variables, {
      type: 'object',
      properties: { id: { type: 'string' } },
      additionalProperties: false,
      required: ['id'],
    });
    assert.deepEqual(getShow!.outputSchema, {
      type: 'object',
      properties: {
        show: {
          type: ['object', 'null'],
          properties: {
            id: { type: 'string' },
            title: { type: 'string' },
            genre: { type: ['string', 'null'], enum: ['ANIME', 'DRAMA', null] },
            episodes: {
              type: ['array', 'null'],
              items: { type: 'object', properties: { number: { type: 'integer' } }, required: ['number'] },
            },
          },
          required: ['id', 'title'],
        },
      },
    });
    assert.equal(rate!.operationType, 'mutation');
    const rateVariables = (rate!.inputSchema as { properties: { variables: Record<string, unknown> } })
      .properties.variables;
    assert.deepEqual(rateVariables.$defs, {
      RatingInput: {
        type: 'object',
        properties: { score: { type: 'integer' }, comment: { type: ['string', 'null'] } },
        additionalProperties: false,
        required: ['score'],
      },
    });
  });
});

describe('graphql services in a config', () => {
  async function problems(text: string): Promise<string[]> {
    const loaded = loadConfigText(text, 'gateway.yaml', process.cwd(), {});
    if (!loaded.ok) return loaded.issues.map(formatIssue);
    const compiled = await compilePlan(loaded.loaded, logger);
    if (compiled.ok) {
      await compiled.plan.close();
      return [];
    }
    return compiled.issues.map(formatIssue);
  }

  test('a document that does not fit the schema is reported at file:line:col of its query', async () => {
    const backend = await startBackend();
    const found = await problems(`services:
  anime:
    kind: graphql
    url: ${backend.url}
    operations:
      getShow:
        query: "{ show(id: 1) { name } }"
`);
    assert.deepEqual(found, [
      'gateway.yaml:7:16 the query (line 1, column 17): Cannot query field "name" on type "Show".',
    ]);
  });

  test('an unknown operation of a graphql service is reported at the step', async () => {
    const found = await problems(`services:
  anime:
    kind: graphql
    url: http://127.0.0.1:1/graphql
    introspect: false
    operations:
      getShow: { query: "{ shows { id } }" }
endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, call: anime.getShows }
`);
    assert.deepEqual(found, [
      'gateway.yaml:12:24 service "anime" has no operation "getShows" (operations: getShow)',
    ]);
  });
});
