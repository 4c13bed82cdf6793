import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ServerCredentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import {
  FULL_ITEM,
  type GrpcBackend,
  PROTO_DIR,
  startGrpcBackend,
} from '../../../test/support/grpc-backend.ts';
import { formatIssue } from '../../config/issues.ts';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { compilePlan } from '../../gateway.ts';
import { loadConfigText } from '../../modules.ts';
import { createGrpcConnector } from './grpc-connector.ts';
import { grpcServiceSchema } from './schema.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };

const backends: GrpcBackend[] = [];
const connectors: Connector[] = [];

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
  await Promise.all(backends.map((backend) => backend.close()));
});

async function startBackend(credentials?: ServerCredentials): Promise<GrpcBackend> {
  const backend = await startGrpcBackend(credentials);
  backends.push(backend);
  return backend;
}

function configOf(raw: Record<string, unknown>) {
  return grpcServiceSchema.parse({
    kind: 'grpc',
    proto: 'catalog.proto',
    service: 'catalog.v1.Catalog',
    ...raw,
  });
}

/** Builds a connector from raw config (proto paths relative to the fixtures), through the schema. */
async function connect(raw: Record<string, unknown>, baseDir = PROTO_DIR): Promise<Connector> {
  const created = await createGrpcConnector(configOf(raw), { service: 'catalog', baseDir, logger });
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

async function loadIssues(raw: Record<string, unknown>, baseDir = PROTO_DIR): Promise<ConnectorIssue[]> {
  const created = await createGrpcConnector(configOf(raw), { service: 'catalog', baseDir, logger });
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

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('grpc connector calls', () => {
  test('a unary call sends input.message and answers the message as JSON', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    const result = await connector.call(callOf('GetItem', { input: { message: { id: '7' } } }), callContext);
    assert.deepEqual(result.output, { ...FULL_ITEM, id: '7', source: 'isbn' });
    assert.deepEqual(backend.calls.at(-1)!.request, { id: '7' });
  });

  test('enum names in input.message are encoded, and unset fields answer their defaults', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    const books = await connector.call(
      callOf('ListItems', { input: { message: { kind: 'BOOK' } } }),
      callContext,
    );
    assert.equal((books.output as { items: unknown[] }).items.length, 1);
    assert.deepEqual(backend.calls.at(-1)!.request, { kind: 'BOOK', page_size: 0 });
    const none = await connector.call(callOf('ListItems'), callContext);
    assert.deepEqual(none.output, { items: [] });
  });

  test('static, propagated and input metadata reach the server', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address, metadata: { authorization: 'Bearer secret' } });
    const result = await connector.call(
      callOf('GetItem', {
        headers: { 'x-request-id': 'req-9', traceparent: '00-abc-def-01' },
        input: { message: { id: 'echo' }, metadata: { 'X-Tenant': 'eu', 'x-count': 3 } },
      }),
      callContext,
    );
    const labels = (result.output as { labels: Record<string, string> }).labels;
    assert.equal(labels.authorization, 'Bearer secret');
    assert.equal(labels['x-request-id'], 'req-9');
    assert.equal(labels.traceparent, '00-abc-def-01');
    assert.equal(labels['x-tenant'], 'eu');
    assert.equal(labels['x-count'], '3');
  });

  test('the call deadline reaches the server', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    const result = await connector.call(
      callOf('GetItem', { input: { message: { id: 'echo' } }, timeoutMs: 1_500 }),
      callContext,
    );
    const remaining = Number((result.output as { labels: Record<string, string> }).labels['deadline-ms']);
    assert.ok(remaining > 1_000 && remaining <= 1_500, `the server saw ${remaining} ms left`);
  });

  test('response headers and trailers are the result headers, and the output with withMetadata', async () => {
    const backend = await startBackend();
    const connector = await connect({
      url: backend.address,
      operations: { GetItem: { withMetadata: true } },
    });
    const result = await connector.call(
      callOf('GetItem', { input: { message: { id: 'echo' } } }),
      callContext,
    );
    assert.equal(result.headers?.['x-served-by'], 'catalog-1');
    assert.equal(result.headers?.['x-cost'], '3');
    const output = result.output as { message: { id: string }; metadata: Record<string, string> };
    assert.equal(output.message.id, 'echo');
    assert.equal(output.metadata['x-served-by'], 'catalog-1');
    assert.equal(output.metadata['x-cost'], '3');
  });

  test('input.message that is not a map, or reserved input metadata, fails with CHORUS_INTERNAL before calling', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: ['1'] } }), callContext),
      isChorusError('CHORUS_INTERNAL'),
    );
    await assert.rejects(
      connector.call(
        callOf('GetItem', { input: { message: { id: '1' }, metadata: { 'grpc-timeout': '1H' } } }),
        callContext,
      ),
      (error) => isChorusError('CHORUS_INTERNAL')(error) && /grpc-timeout/.test((error as Error).message),
    );
    await assert.rejects(
      connector.call(
        callOf('GetItem', { input: { message: { id: '1' }, metadata: { 'x-evil': 'a\r\nb' } } }),
        callContext,
      ),
      isChorusError('CHORUS_INTERNAL'),
    );
    assert.equal(backend.calls.length, 0);
  });
});

describe('grpc connector errors', () => {
  test('a NOT_FOUND status fails with CHORUS_UPSTREAM_PROTOCOL keeping the gRPC code, name and message', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: 'missing' } } }), callContext),
      (error) => {
        isChorusError('CHORUS_UPSTREAM_PROTOCOL')(error);
        const chorusError = error as ChorusError;
        assert.equal(
          chorusError.message,
          'service "catalog" operation "GetItem" answered gRPC NOT_FOUND: item missing does not exist',
        );
        assert.deepEqual(chorusError.extras, {
          service: 'catalog',
          operation: 'GetItem',
          grpcCode: 5,
          grpcStatus: 'NOT_FOUND',
          grpcMessage: 'item missing does not exist',
        });
        assert.equal(chorusError.retryable, false);
        const body = (chorusError.data as { body: { status: string; metadata: Record<string, string> } })
          .body;
        assert.equal(body.status, 'NOT_FOUND');
        assert.equal(body.metadata['x-reason'], 'gone');
        return true;
      },
    );
  });

  test('a server past the deadline fails with CHORUS_UPSTREAM_TIMEOUT (DEADLINE_EXCEEDED) and the server sees the call end', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    const started = performance.now();
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: 'slow' } }, timeoutMs: 200 }), callContext),
      (error) => {
        isChorusError('CHORUS_UPSTREAM_TIMEOUT')(error);
        const chorusError = error as ChorusError;
        assert.equal(
          chorusError.message,
          'service "catalog" operation "GetItem" did not answer within 200 ms',
        );
        assert.equal(chorusError.retryable, true);
        assert.equal(chorusError.extras.grpcStatus, 'DEADLINE_EXCEEDED');
        return true;
      },
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 1_000, `took ${elapsed} ms`);
    await waitFor(() => backend.cancelled > 0);
  });

  test('a deadline-bound call past its time fails with CHORUS_DEADLINE_EXCEEDED', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    await assert.rejects(
      connector.call(
        callOf('GetItem', { input: { message: { id: 'slow' } }, timeoutMs: 100, deadlineBound: true }),
        callContext,
      ),
      (error) => isChorusError('CHORUS_DEADLINE_EXCEEDED')(error) && !(error as ChorusError).retryable,
    );
  });

  test('an UNAVAILABLE status fails with CHORUS_UPSTREAM_UNAVAILABLE, retryable', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: 'down' } } }), callContext),
      (error) => {
        isChorusError('CHORUS_UPSTREAM_UNAVAILABLE')(error);
        assert.equal((error as ChorusError).retryable, true);
        assert.equal((error as ChorusError).extras.grpcMessage, 'the shard is restarting');
        return true;
      },
    );
  });

  test('a server nobody listens on fails with CHORUS_UPSTREAM_UNAVAILABLE without naming its address', async () => {
    const port = await freePort();
    const connector = await connect({ url: `127.0.0.1:${port}` });
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: '1' } } }), callContext),
      (error) => {
        isChorusError('CHORUS_UPSTREAM_UNAVAILABLE')(error);
        const chorusError = error as ChorusError;
        assert.doesNotMatch(JSON.stringify(chorusError.extras) + chorusError.message, /127\.0\.0\.1/);
        return true;
      },
    );
  });

  test('an answer over maxResponseBytes fails with CHORUS_UPSTREAM_TOO_LARGE', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address, maxResponseBytes: '1kb' });
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: 'big' } } }), callContext),
      isChorusError('CHORUS_UPSTREAM_TOO_LARGE'),
    );
    const small = await connector.call(callOf('GetItem', { input: { message: { id: '2' } } }), callContext);
    assert.equal((small.output as { id: string }).id, '2');
  });

  test('an answer that does not decode as the response type fails with CHORUS_UPSTREAM_DECODE', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: 'garbage' } } }), callContext),
      isChorusError('CHORUS_UPSTREAM_DECODE'),
    );
  });

  test("aborting the caller's signal cancels the call and rejects with its reason", async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    const controller = new AbortController();
    const reason = new Error('client gone');
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    await assert.rejects(
      connector.call(
        callOf('GetItem', { input: { message: { id: 'slow' } }, signal: controller.signal }),
        callContext,
      ),
      (error) => error === reason,
    );
    assert.ok(performance.now() - started < 1_000);
    await waitFor(() => backend.cancelled > 0);
  });

  test('an already aborted signal rejects without calling the server', async () => {
    const backend = await startBackend();
    const connector = await connect({ url: backend.address });
    const reason = new Error('client gone');
    await assert.rejects(
      connector.call(callOf('GetItem', { signal: AbortSignal.abort(reason) }), callContext),
      (error) => error === reason,
    );
    assert.equal(backend.calls.length, 0);
  });
});

describe('grpc connector over TLS', () => {
  let openssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    openssl = false;
    console.warn('!!! openssl is not installed: the gRPC TLS tests are SKIPPED !!!');
  }

  /** A self-signed certificate for 127.0.0.1, made now. */
  async function selfSigned(): Promise<{ dir: string; cert: Buffer; key: Buffer }> {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-grpc-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    await writeFile(path.join(dir, 'catalog.proto'), await readFile(path.join(PROTO_DIR, 'catalog.proto')));
    await writeFile(path.join(dir, 'common.proto'), await readFile(path.join(PROTO_DIR, 'common.proto')));
    return {
      dir,
      cert: await readFile(path.join(dir, 'cert.pem')),
      key: await readFile(path.join(dir, 'key.pem')),
    };
  }

  test('a grpcs:// service with its CA file calls a TLS server', { skip: !openssl }, async () => {
    const tls = await selfSigned();
    const backend = await startBackend(
      ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }]),
    );
    const connector = await connect({ url: `grpcs://${backend.address}`, tls: { ca: 'cert.pem' } }, tls.dir);
    const result = await connector.call(callOf('GetItem', { input: { message: { id: '3' } } }), callContext);
    assert.equal((result.output as { id: string }).id, '3');
  });

  test('a TLS server whose certificate the client does not trust is UNAVAILABLE', {
    skip: !openssl,
  }, async () => {
    const tls = await selfSigned();
    const backend = await startBackend(
      ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }]),
    );
    const connector = await connect({ url: `grpcs://${backend.address}` }, tls.dir);
    await assert.rejects(
      connector.call(callOf('GetItem', { input: { message: { id: '3' } } }), callContext),
      isChorusError('CHORUS_UPSTREAM_UNAVAILABLE'),
    );
    assert.equal(backend.calls.length, 0);
  });
});

describe('grpc connector loading', () => {
  test('a proto file that cannot be read is a load issue at proto', async () => {
    const issues = await loadIssues({ url: '127.0.0.1:1', proto: 'nope.proto' });
    assert.deepEqual(issues, [{ path: ['proto'], message: 'cannot read proto file "nope.proto": ENOENT' }]);
  });

  test('in a list of proto files, the one that cannot be read is named by its index', async () => {
    const issues = await loadIssues({ url: '127.0.0.1:1', proto: ['catalog.proto', 'nope.proto'] });
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [['proto', 1]],
    );
  });

  test('a proto file with a syntax error is a load issue at proto saying where', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-grpc-'));
    await writeFile(
      path.join(dir, 'bad.proto'),
      'syntax = "proto3";\npackage x;\nmessage A {\n  string id = 1\n}\n',
    );
    const issues = await loadIssues({ url: '127.0.0.1:1', proto: 'bad.proto', service: 'x.S' }, dir);
    assert.deepEqual(issues, [
      { path: ['proto'], message: "cannot load the proto files: illegal token '}', ';' expected (line 5)" },
    ]);
  });

  test('a service the protos do not declare is a load issue at service listing the services', async () => {
    const issues = await loadIssues({ url: '127.0.0.1:1', service: 'catalog.v1.Catalogue' });
    assert.deepEqual(issues, [
      {
        path: ['service'],
        message: 'the proto files declare no service "catalog.v1.Catalogue" (services: catalog.v1.Catalog)',
      },
    ]);
  });

  test('an unknown method and a streaming method are load issues at the operation', async () => {
    const issues = await loadIssues({
      url: '127.0.0.1:1',
      operations: { GetItem: {}, GetItems: {}, WatchItems: {} },
    });
    assert.deepEqual(issues, [
      {
        path: ['operations', 'GetItems'],
        message:
          'service catalog.v1.Catalog has no method "GetItems" (methods: GetItem, ListItems, WatchItems)',
      },
      {
        path: ['operations', 'WatchItems'],
        message: 'method WatchItems streams (server streaming); only unary methods can be called',
      },
    ]);
  });

  test('reserved or invalid static metadata, and tls with a grpc:// url, are load issues', async () => {
    const issues = await loadIssues({
      url: 'grpc://127.0.0.1:1',
      tls: { insecure: true },
      metadata: { 'content-type': 'text/plain', 'x-ok': 'fine', 'x-bad': 'a\nb' },
    });
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [['url'], ['metadata', 'content-type'], ['metadata', 'x-bad']],
    );
  });

  test('TLS files that cannot be read, or a cert without its key, are load issues at tls', async () => {
    const issues = await loadIssues({
      url: 'grpcs://127.0.0.1:1',
      tls: { ca: 'none.pem', cert: 'catalog.proto' },
    });
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [
        ['tls', 'ca'],
        ['tls', 'key'],
      ],
    );
  });

  test('describe() lists every unary method, leaving out streams, with schemas of its messages', async () => {
    const connector = await connect({ url: '127.0.0.1:1', operations: undefined });
    assert.equal(connector.kind, 'grpc');
    const described = connector.describe();
    assert.deepEqual(
      described.map((op) => [op.name, op.method, op.requestType, op.responseType]),
      [
        ['GetItem', '/catalog.v1.Catalog/GetItem', 'catalog.v1.GetItemRequest', 'catalog.v1.Item'],
        [
          'ListItems',
          '/catalog.v1.Catalog/ListItems',
          'catalog.v1.ListItemsRequest',
          'catalog.v1.ListItemsResponse',
        ],
      ],
    );
    const item = described[0]!.outputSchema as {
      $ref: string;
      $defs: Record<string, { properties: unknown }>;
    };
    assert.equal(item.$ref, '#/$defs/catalog.v1.Item');
    assert.deepEqual(item.$defs['catalog.v1.Item']!.properties, {
      id: { type: 'string' },
      title: { type: 'string' },
      views: { type: 'string', format: 'int64' },
      price: { anyOf: [{ $ref: '#/$defs/catalog.common.Money' }, { type: 'null' }] },
      updated_at: { anyOf: [{ $ref: '#/$defs/google.protobuf.Timestamp' }, { type: 'null' }] },
      kind: { type: 'string', enum: ['KIND_UNSPECIFIED', 'BOOK', 'FILM'] },
      tags: { type: 'array', items: { type: 'string' } },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      isbn: { type: 'string' },
      imdb: { type: 'string' },
      thumbnail: { type: 'string', contentEncoding: 'base64' },
      source: { type: 'string', description: 'the field of oneof source that is set' },
    });
    assert.deepEqual(item.$defs['google.protobuf.Timestamp']!.properties, {
      seconds: { type: 'string', format: 'int64' },
      nanos: { type: 'integer' },
    });
    const input = described[0]!.inputSchema as { properties: { message: { $ref: string } } };
    assert.equal(input.properties.message.$ref, '#/$defs/catalog.v1.GetItemRequest');
  });
});

describe('grpc services in a config', () => {
  async function problems(text: string): Promise<string[]> {
    const loaded = loadConfigText(text, 'gateway.yaml', PROTO_DIR, {});
    if (!loaded.ok) return loaded.issues.map(formatIssue);
    const compiled = await compilePlan(loaded.loaded, logger);
    if (compiled.ok) {
      await compiled.plan.close();
      return [];
    }
    return compiled.issues.map(formatIssue);
  }

  test('a proto file that cannot be read is reported at file:line:col of proto', async () => {
    const found = await problems(`services:
  catalog:
    kind: grpc
    url: 127.0.0.1:1
    proto: missing.proto
    service: catalog.v1.Catalog
`);
    assert.deepEqual(found, ['gateway.yaml:5:12 cannot read proto file "missing.proto": ENOENT']);
  });

  test('a service or method the proto does not declare is reported at file:line:col of its entry', async () => {
    const found = await problems(`services:
  catalog:
    kind: grpc
    url: 127.0.0.1:1
    proto: catalog.proto
    service: catalog.v1.Catalog
    operations:
      GetItem: {}
      Remove: { summary: Deletes an item. }
  other:
    kind: grpc
    url: 127.0.0.1:1
    proto: catalog.proto
    service: catalog.v2.Catalog
`);
    assert.deepEqual(found.sort(), [
      'gateway.yaml:14:14 the proto files declare no service "catalog.v2.Catalog" (services: catalog.v1.Catalog)',
      'gateway.yaml:9:15 service catalog.v1.Catalog has no method "Remove" (methods: GetItem, ListItems, WatchItems)',
    ]);
  });

  test('a step calling a method the service does not offer is reported at the call', async () => {
    const found = await problems(`services:
  catalog:
    kind: grpc
    url: 127.0.0.1:1
    proto: catalog.proto
    service: catalog.v1.Catalog
endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, call: catalog.WatchItems }
`);
    assert.deepEqual(found, [
      'gateway.yaml:11:24 service "catalog" has no operation "WatchItems" (operations: GetItem, ListItems)',
    ]);
  });
});
