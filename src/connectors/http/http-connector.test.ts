import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { createHttpConnector } from './http-connector.ts';
import { httpServiceSchema } from './schema.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };

interface Backend {
  url: string;
  port: number;
  /** Every connection the backend accepted, with a promise of its close. */
  sockets: { socket: Socket; closed: Promise<void> }[];
  server: Server;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const backends: Backend[] = [];
const connectors: Connector[] = [];

after(async () => {
  await Promise.all(connectors.map((connector) => connector.close()));
  for (const backend of backends) backend.server.closeAllConnections();
  await Promise.all(backends.map((backend) => new Promise((resolve) => backend.server.close(resolve))));
});

/** A real HTTP server on loopback that hands each request, with its body read, to `handler`. */
async function startBackend(handler: Handler): Promise<Backend> {
  const sockets: Backend['sockets'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (socket: Socket) => {
    sockets.push({ socket, closed: once(socket, 'close').then(() => undefined) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const backend = { url: `http://127.0.0.1:${port}`, port, sockets, server };
  backends.push(backend);
  return backend;
}

/** Answers every request with a JSON echo of what the backend received. */
const echo: Handler = (req, res, body) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
};

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** Builds a connector from raw config, through the schema so defaults apply as at load. */
async function connect(raw: Record<string, unknown>, service = 'backend'): Promise<Connector> {
  const created = await createHttpConnector(httpServiceSchema.parse({ kind: 'http', ...raw }), {
    service,
    baseDir: '.',
    logger,
  });
  if ('issues' in created) assert.fail(`unexpected issues: ${JSON.stringify(created.issues)}`);
  connectors.push(created);
  return created;
}

async function loadIssues(raw: Record<string, unknown>): Promise<ConnectorIssue[]> {
  const created = await createHttpConnector(httpServiceSchema.parse({ kind: 'http', ...raw }), {
    service: 'backend',
    baseDir: '.',
    logger,
  });
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

/** Rejects the test instead of hanging when a socket is expected to close and does not. */
function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isChorusError(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ChorusError, `expected a ChorusError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe('http connector requests', () => {
  test('a GET fills path params and appends the static query, then input.query', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: `${backend.url}/api/`,
      operations: { getItem: { path: '/items/{id}', query: { format: 'full' } } },
    });
    const result = await connector.call(
      callOf('getItem', {
        input: { params: { id: 42 }, query: { tag: ['a', 'b c'], page: 2, skipped: null } },
      }),
      callContext,
    );
    const output = result.output as Echo;
    assert.equal(result.status, 200);
    assert.equal(output.method, 'GET');
    assert.equal(output.url, '/api/items/42?format=full&tag=a&tag=b%20c&page=2');
  });

  test('a POST sends input.body as JSON with content-type application/json', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: backend.url,
      operations: { create: { method: 'POST', path: '/items' } },
    });
    const result = await connector.call(
      callOf('create', { input: { body: { name: 'lamp', tags: ['a'] } } }),
      callContext,
    );
    const output = result.output as Echo;
    assert.equal(output.method, 'POST');
    assert.equal(output.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(output.body), { name: 'lamp', tags: ['a'] });
  });

  test('a string body is sent as it is when input.headers set a content type', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: backend.url,
      operations: { upload: { method: 'PUT', path: '/doc' } },
    });
    const result = await connector.call(
      callOf('upload', { input: { headers: { 'Content-Type': 'text/xml' }, body: '<a>1</a>' } }),
      callContext,
    );
    const output = result.output as Echo;
    assert.equal(output.headers['content-type'], 'text/xml');
    assert.equal(output.body, '<a>1</a>');
  });

  test('a string body is sent as it is when the operation config sets a content type', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: backend.url,
      operations: { upload: { method: 'PUT', path: '/doc', headers: { 'content-type': 'application/xml' } } },
    });
    const result = await connector.call(callOf('upload', { input: { body: '<a>1</a>' } }), callContext);
    const output = result.output as Echo;
    assert.equal(output.headers['content-type'], 'application/xml');
    assert.equal(output.body, '<a>1</a>');
  });

  test('static, propagated and input headers all reach the backend, later ones winning', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: backend.url,
      headers: { Authorization: 'Bearer secret', 'X-Layer': 'service', 'X-Service-Only': 's' },
      operations: { get: { path: '/', headers: { 'X-Layer': 'operation' } } },
    });
    const result = await connector.call(
      callOf('get', {
        headers: { 'x-request-id': 'req-1', traceparent: '00-abc-def-01' },
        input: { headers: { 'X-Custom': 'c', 'X-Count': 3 } },
      }),
      callContext,
    );
    const headers = (result.output as Echo).headers;
    assert.equal(headers.authorization, 'Bearer secret');
    assert.equal(headers['x-layer'], 'operation');
    assert.equal(headers['x-service-only'], 's');
    assert.equal(headers['x-request-id'], 'req-1');
    assert.equal(headers.traceparent, '00-abc-def-01');
    assert.equal(headers['x-custom'], 'c');
    assert.equal(headers['x-count'], '3');
  });

  test('path param values with slashes and dots stay inside their path segment', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: `${backend.url}/api`,
      operations: { getFile: { path: '/files/{name}/meta' } },
    });
    const urls: string[] = [];
    for (const name of ['a/b', '../../admin', 'x?y#z', '...']) {
      const result = await connector.call(callOf('getFile', { input: { params: { name } } }), callContext);
      urls.push((result.output as Echo).url);
    }
    assert.deepEqual(urls, [
      '/api/files/a%2Fb/meta',
      '/api/files/..%2F..%2Fadmin/meta',
      '/api/files/x%3Fy%23z/meta',
      '/api/files/.../meta',
    ]);
  });

  test('path param values ".", ".." and "" are refused as invalid input, never sent', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({ url: backend.url, operations: { getFile: { path: '/files/{name}' } } });
    for (const name of ['.', '..', '']) {
      await assert.rejects(
        connector.call(callOf('getFile', { input: { params: { name } } }), callContext),
        isChorusError('CHORUS_VALIDATION_FAILED'),
      );
    }
    assert.equal(backend.sockets.length, 0);
  });

  test('a missing path param fails with CHORUS_INTERNAL naming the param', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({
      url: backend.url,
      operations: { getItem: { path: '/shops/{shop}/items/{id}' } },
    });
    await assert.rejects(
      connector.call(callOf('getItem', { input: { params: { shop: 's1' } } }), callContext),
      (error) =>
        isChorusError('CHORUS_INTERNAL')(error) && /param "id" is missing/.test((error as Error).message),
    );
    assert.equal(backend.sockets.length, 0);
  });

  test('an unknown operation fails with CHORUS_INTERNAL', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    await assert.rejects(connector.call(callOf('nope'), callContext), isChorusError('CHORUS_INTERNAL'));
  });

  test('a CR/LF in an input header value is refused as invalid input before reaching the backend', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    await assert.rejects(
      connector.call(callOf('get', { input: { headers: { 'x-evil': 'a\r\nx-injected: 1' } } }), callContext),
      (error) => {
        isChorusError('CHORUS_VALIDATION_FAILED')(error);
        assert.equal((error as ChorusError).retryable, false);
        assert.match((error as Error).message, /x-evil/);
        return true;
      },
    );
    assert.equal(backend.sockets.length, 0);
  });

  test('an input host header is refused, so request data cannot pick the virtual host', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    await assert.rejects(
      connector.call(callOf('get', { input: { headers: { Host: 'evil.example' } } }), callContext),
      isChorusError('CHORUS_INTERNAL'),
    );
    assert.equal(backend.sockets.length, 0);
  });

  test('sequential calls reuse one keep-alive connection', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    for (let n = 0; n < 3; n++) {
      await connector.call(callOf('get'), callContext);
      // undici hands a socket back to the pool one event-loop turn after a response ends (so a
      // server that closes despite keep-alive is noticed); a call in that same turn opens another.
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(backend.sockets.length, 1);
  });
});

describe('http connector responses', () => {
  test('a non-2xx answer fails with CHORUS_UPSTREAM_STATUS keeping status, body and headers in error.data', async () => {
    const backend = await startBackend((_req, res) => sendJson(res, 503, { reason: 'maintenance' }));
    const connector = await connect({ url: backend.url, operations: { get: {} } }, 'billing');
    await assert.rejects(connector.call(callOf('get'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_STATUS')(error);
      const chorusError = error as ChorusError;
      assert.equal(chorusError.message, 'service "billing" operation "get" answered 503');
      assert.equal(chorusError.retryable, true);
      assert.deepEqual(chorusError.extras, { service: 'billing', operation: 'get', upstreamStatus: 503 });
      const data = chorusError.data as { status: number; body: unknown; headers: Record<string, string> };
      assert.equal(data.status, 503);
      assert.deepEqual(data.body, { reason: 'maintenance' });
      assert.equal(data.headers['content-type'], 'application/json');
      return true;
    });
  });

  test('a 400 answer is not retryable', async () => {
    const backend = await startBackend((_req, res) => sendJson(res, 400, { error: 'bad' }));
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    await assert.rejects(connector.call(callOf('get'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_STATUS')(error);
      assert.equal((error as ChorusError).retryable, false);
      return true;
    });
  });

  test('a status listed in accept is a success', async () => {
    const backend = await startBackend((_req, res) => sendJson(res, 404, { found: false }));
    const connector = await connect({ url: backend.url, operations: { find: { accept: [404] } } });
    const result = await connector.call(callOf('find'), callContext);
    assert.equal(result.status, 404);
    assert.deepEqual(result.output, { found: false });
  });

  test('a text answer is returned as a string', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('héllo');
    });
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    const result = await connector.call(callOf('get'), callContext);
    assert.equal(result.output, 'héllo');
  });

  test('a +json content type is decoded as JSON', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/problem+json; charset=utf-8' });
      res.end('{"a":1}');
    });
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    const result = await connector.call(callOf('get'), callContext);
    assert.deepEqual(result.output, { a: 1 });
  });

  test('an empty JSON answer decodes to null', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end();
    });
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    const result = await connector.call(callOf('get'), callContext);
    assert.equal(result.output, null);
  });

  test('responseType json decodes a body whatever its content type', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('[1,2]');
    });
    const connector = await connect({ url: backend.url, operations: { get: { responseType: 'json' } } });
    const result = await connector.call(callOf('get'), callContext);
    assert.deepEqual(result.output, [1, 2]);
  });

  test('malformed JSON from the backend fails with CHORUS_UPSTREAM_DECODE', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"a":');
    });
    const connector = await connect({ url: backend.url, operations: { get: {} } }, 'catalog');
    await assert.rejects(connector.call(callOf('get'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_DECODE')(error);
      assert.deepEqual((error as ChorusError).extras, { service: 'catalog', operation: 'get' });
      return true;
    });
  });

  test('a forwarded (raw) answer is scanned: garbage or HTML labelled JSON fails with CHORUS_UPSTREAM_DECODE', async () => {
    const bodies = ['{"items": [1, 2, nope]]]}} <html>', '<!doctype html><html><body>oops</body></html>'];
    const backend = await startBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/good' ? '{"items":[1,2]}' : bodies[Number(req.url!.slice(1))]);
    });
    const connector = await connect(
      { url: backend.url, operations: { bad: { path: '/{n}' }, good: { path: '/good' } } },
      'catalog',
    );
    for (const n of [0, 1]) {
      await assert.rejects(
        connector.call(callOf('bad', { input: { params: { n } }, raw: true }), callContext),
        (error) => {
          isChorusError('CHORUS_UPSTREAM_DECODE')(error);
          assert.deepEqual((error as ChorusError).extras, { service: 'catalog', operation: 'bad' });
          assert.match((error as Error).message, /malformed JSON \(unexpected byte at byte \d+\)/);
          return true;
        },
      );
    }
    const good = await connector.call(callOf('good', { raw: true }), callContext);
    assert.equal(good.raw?.toString(), '{"items":[1,2]}');
  });

  test('__proto__ and constructor.prototype keys in a JSON answer do not pollute Object.prototype', async () => {
    const bodies = [
      '{"__proto__": {"polluted": true}, "a": 1}',
      '{"constructor": {"prototype": {"polluted": true}}, "a": 1}',
    ];
    const backend = await startBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(bodies[Number(req.url?.slice(1))]);
    });
    const connector = await connect({ url: backend.url, operations: { get: { path: '/{n}' } } });
    for (let n = 0; n < bodies.length; n++) {
      const result = await connector.call(callOf('get', { input: { params: { n } } }), callContext);
      const output = result.output as Record<string, unknown>;
      assert.equal(output.a, 1);
      assert.equal(Object.getPrototypeOf(output), Object.prototype);
      assert.equal(Object.hasOwn(output, '__proto__'), false);
      const merged: Record<string, unknown> = Object.assign({}, output);
      assert.equal(merged.polluted, undefined);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
  });

  test('a content-length over maxResponseBytes fails with CHORUS_UPSTREAM_TOO_LARGE before the body is read', async () => {
    const backend = await startBackend((_req, res) => {
      // Only the declared length can trip the cap: the few bytes sent stay far below it.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000_000 });
      res.write('"xxxx');
    });
    const connector = await connect({ url: backend.url, maxResponseBytes: '1kb', operations: { get: {} } });
    await assert.rejects(
      connector.call(callOf('get'), callContext),
      isChorusError('CHORUS_UPSTREAM_TOO_LARGE'),
    );
    await withinMs(backend.sockets[0]!.closed, 1_000, 'the backend socket closing');
  });

  test('a chunked body that grows over maxResponseBytes fails with CHORUS_UPSTREAM_TOO_LARGE and closes the connection', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // No content-length: the cap must be enforced while reading; the rest never comes.
      res.write('x'.repeat(600));
      setTimeout(() => res.write('x'.repeat(600)), 20);
    });
    const connector = await connect({ url: backend.url, maxResponseBytes: '1kb', operations: { get: {} } });
    await assert.rejects(
      connector.call(callOf('get'), callContext),
      isChorusError('CHORUS_UPSTREAM_TOO_LARGE'),
    );
    await withinMs(backend.sockets[0]!.closed, 1_000, 'the backend socket closing');
  });
});

describe('http connector timeouts and cancellation', () => {
  /** A backend that reads the request and never answers. */
  const never: Handler = () => {};

  test('a backend that never answers fails with CHORUS_UPSTREAM_TIMEOUT after timeoutMs and its socket closes', async () => {
    const backend = await startBackend(never);
    const connector = await connect({ url: backend.url, operations: { slow: {} } }, 'ledger');
    const started = performance.now();
    await assert.rejects(connector.call(callOf('slow', { timeoutMs: 200 }), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_TIMEOUT')(error);
      const chorusError = error as ChorusError;
      assert.equal(chorusError.message, 'service "ledger" operation "slow" did not answer within 200 ms');
      assert.equal(chorusError.retryable, true);
      assert.deepEqual(chorusError.extras, { service: 'ledger', operation: 'slow' });
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 500, `took ${elapsed} ms`);
    await withinMs(backend.sockets[0]!.closed, 1_000, 'the backend socket closing');
  });

  test('the connector answers again after a call timed out', async () => {
    const backend = await startBackend((req, res) => {
      if (req.url === '/slow') return;
      sendJson(res, 200, { ok: true });
    });
    const connector = await connect({ url: backend.url, operations: { slow: { path: '/slow' }, fast: {} } });
    await assert.rejects(
      connector.call(callOf('slow', { timeoutMs: 50 }), callContext),
      isChorusError('CHORUS_UPSTREAM_TIMEOUT'),
    );
    const result = await connector.call(callOf('fast'), callContext);
    assert.deepEqual(result.output, { ok: true });
  });

  test('a deadline-bound timeout fails with CHORUS_DEADLINE_EXCEEDED', async () => {
    const backend = await startBackend(never);
    const connector = await connect({ url: backend.url, operations: { slow: {} } });
    await assert.rejects(
      connector.call(callOf('slow', { timeoutMs: 100, deadlineBound: true }), callContext),
      (error) => {
        isChorusError('CHORUS_DEADLINE_EXCEEDED')(error);
        assert.equal((error as ChorusError).retryable, false);
        return true;
      },
    );
  });

  test('a body that stalls mid-stream times out and its socket closes', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    const connector = await connect({ url: backend.url, operations: { slow: {} } });
    await assert.rejects(
      connector.call(callOf('slow', { timeoutMs: 150 }), callContext),
      isChorusError('CHORUS_UPSTREAM_TIMEOUT'),
    );
    await withinMs(backend.sockets[0]!.closed, 1_000, 'the backend socket closing');
  });

  test("aborting the caller's signal mid-flight rejects promptly with its reason and closes the backend socket", async () => {
    const backend = await startBackend(never);
    const connector = await connect({ url: backend.url, operations: { slow: {} } });
    const controller = new AbortController();
    const reason = new ChorusError('CHORUS_DEADLINE_EXCEEDED', 'the request deadline passed');
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    await assert.rejects(
      connector.call(callOf('slow', { signal: controller.signal }), callContext),
      (error) => {
        assert.equal(error, reason);
        return true;
      },
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 300, `took ${elapsed} ms`);
    await withinMs(backend.sockets[0]!.closed, 1_000, 'the backend socket closing');
  });

  test('an already aborted signal rejects without calling the backend', async () => {
    const backend = await startBackend(echo);
    const connector = await connect({ url: backend.url, operations: { get: {} } });
    const reason = new Error('client gone');
    await assert.rejects(
      connector.call(callOf('get', { signal: AbortSignal.abort(reason) }), callContext),
      (error) => error === reason,
    );
    assert.equal(backend.sockets.length, 0);
  });

  test('a refused connection fails with CHORUS_UPSTREAM_TRANSPORT, retryable, naming the error code', async () => {
    // Listen then close, so the port is known to be free.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const connector = await connect({ url: `http://127.0.0.1:${port}`, operations: { get: {} } }, 'gone');
    await assert.rejects(connector.call(callOf('get'), callContext), (error) => {
      isChorusError('CHORUS_UPSTREAM_TRANSPORT')(error);
      const chorusError = error as ChorusError;
      assert.equal(chorusError.retryable, true);
      assert.match(chorusError.message, /^service "gone" operation "get": .*ECONNREFUSED/);
      assert.doesNotMatch(chorusError.message, /127\.0\.0\.1/);
      assert.deepEqual(chorusError.extras, { service: 'gone', operation: 'get' });
      assert.ok(chorusError.cause instanceof Error);
      return true;
    });
  });
});

describe('http connector loading', () => {
  test('a path with an unclosed placeholder is reported as a load-time issue', async () => {
    const issues = await loadIssues({ url: 'http://127.0.0.1:1', operations: { broken: { path: '/a/{' } } });
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]!.path, ['operations', 'broken', 'path']);
    assert.match(issues[0]!.message, /unclosed "\{"/);
  });

  test('invalid placeholders, stray braces and unencoded characters in a path are load-time issues', async () => {
    const issues = await loadIssues({
      url: 'http://127.0.0.1:1',
      operations: {
        empty: { path: '/a/{}' },
        stray: { path: '/a/}' },
        space: { path: '/a b' },
        query: { path: '/a?b=1' },
      },
    });
    assert.deepEqual(
      issues.map((issue) => issue.path[1]),
      ['empty', 'stray', 'space', 'query'],
    );
  });

  test('a static header with a line break is a load-time issue', async () => {
    const issues = await loadIssues({
      url: 'http://127.0.0.1:1',
      headers: { 'x-key': 'a\nb' },
      operations: { get: {} },
    });
    assert.deepEqual(issues[0]!.path, ['headers', 'x-key']);
  });

  test('describe() lists each operation with its method, path and required params', async () => {
    const connector = await connect({
      url: 'http://127.0.0.1:1/base',
      operations: {
        getItem: { path: '/shops/{shop}/items/{id}', summary: 'One item of a shop.' },
        list: { method: 'POST', path: '/items' },
      },
    });
    assert.equal(connector.kind, 'http');
    assert.deepEqual(connector.describe(), [
      {
        name: 'getItem',
        summary: 'One item of a shop.',
        requiredParams: ['shop', 'id'],
        method: 'GET',
        path: '/shops/{shop}/items/{id}',
        idempotent: true,
      },
      { name: 'list', requiredParams: [], method: 'POST', path: '/items', idempotent: false },
    ]);
  });
});
