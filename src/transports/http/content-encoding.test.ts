/**
 * Compressed backend answers through the http connector, against a real loopback backend: decoded
 * for the flow (and for a forwarded answer), held to maxResponseBytes after decoding, and a body
 * that does not decode is CHORUS_UPSTREAM_DECODE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { startBackend, type TestBackend } from '../../../test/support/backend.ts';
import { createHttpConnector } from '../../connectors/http/http-connector.ts';
import { httpServiceSchema } from '../../connectors/http/schema.ts';
import type { Connector, ConnectorCall } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';

const logger = pino({ level: 'silent' });
const ITEM = { id: 7, name: 'compressed item', tags: ['a', 'b'] };

describe('compressed backend answers', () => {
  let backend: TestBackend;
  let connector: Connector;

  before(async () => {
    backend = await startBackend((req, res) => {
      const json = Buffer.from(JSON.stringify(ITEM));
      const [body, coding] =
        req.url === '/gzip'
          ? [gzipSync(json), 'gzip']
          : req.url === '/br'
            ? [brotliCompressSync(json), 'br']
            : req.url === '/deflate'
              ? [deflateSync(json), 'deflate']
              : req.url === '/bomb'
                ? [gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20)), 'gzip']
                : req.url === '/broken'
                  ? [json, 'gzip']
                  : [json, 'compress'];
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': coding,
        'content-length': body.length,
      });
      res.end(body);
    });
    const created = await createHttpConnector(
      httpServiceSchema.parse({
        kind: 'http',
        url: backend.url,
        maxResponseBytes: '64kb',
        operations: Object.fromEntries(
          ['gzip', 'br', 'deflate', 'bomb', 'broken', 'unknown'].map((name) => [name, { path: `/${name}` }]),
        ),
      }),
      { service: 'packed', baseDir: '.', logger },
    );
    if ('issues' in created) assert.fail(JSON.stringify(created.issues));
    connector = created;
  });

  after(async () => {
    await connector.close();
    await backend.close();
  });

  const call = (operation: string, raw = false) => {
    const request: ConnectorCall = {
      operation,
      input: {},
      headers: {},
      signal: new AbortController().signal,
      timeoutMs: 2000,
      deadlineBound: false,
      raw,
    };
    return connector.call(request, { requestId: 't', logger });
  };

  test('gzip, br and deflate answers are decoded for the flow', async () => {
    for (const operation of ['gzip', 'br', 'deflate']) {
      assert.deepEqual((await call(operation)).output, ITEM, operation);
    }
  });

  test('a forwarded answer is decoded too (its bytes are JSON)', async () => {
    const result = await call('gzip', true);
    assert.deepEqual(JSON.parse(String(result.raw)), ITEM);
  });

  test('an answer over maxResponseBytes once decoded is CHORUS_UPSTREAM_TOO_LARGE (a small gzip of 10 MB)', async () => {
    await assert.rejects(call('bomb'), (error: unknown) => {
      assert.ok(error instanceof ChorusError);
      assert.equal(error.code, 'CHORUS_UPSTREAM_TOO_LARGE');
      return true;
    });
  });

  test('a body that does not decode, or an unknown coding, is CHORUS_UPSTREAM_DECODE', async () => {
    for (const operation of ['broken', 'unknown']) {
      await assert.rejects(call(operation), (error: unknown) => {
        assert.ok(error instanceof ChorusError);
        assert.equal(error.code, 'CHORUS_UPSTREAM_DECODE', operation);
        return true;
      });
    }
  });
});
