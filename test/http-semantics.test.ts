/**
 * HTTP done right toward clients: content coding by Accept-Encoding (br, gzip, identity), ETags and
 * If-None-Match → 304, HEAD and OPTIONS on every route, the portal's assets precompressed.
 * Requests go through node:http so that the bytes on the wire are what is asserted, not what a
 * client library decoded.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  brotliCompressSync,
  brotliDecompressSync,
  createGzip,
  deflateSync,
  gunzipSync,
  gzipSync,
} from 'node:zlib';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';
import { type WireAnswer, wire } from './support/wire.ts';

/** About 10 KB of JSON, as a list endpoint would answer. */
export const TEN_KB_ITEMS = Array.from({ length: 100 }, (_, i) => ({
  id: i,
  name: `item ${i}`,
  description: `a catalogue item, number ${i}, with some text`,
  tags: ['music', 'film'],
}));

describe('HTTP semantics toward clients', () => {
  let backend: TestBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/small') json(res, 200, { ok: true });
      else json(res, 200, TEN_KB_ITEMS);
    });
    gateway = await startTestGateway(`
services:
  items:
    kind: http
    url: ${backend.url}
    operations:
      list: { path: /items }
      small: { path: /small }
endpoints:
  - id: list
    method: GET
    path: /items
    flow:
      - { id: items, call: items.list }
  - id: small
    method: GET
    path: /small
    flow:
      - { id: small, call: items.small }
  - id: create
    method: POST
    path: /items
    flow:
      - { id: small, call: items.small }
  - id: form
    method: POST
    path: /form
    input:
      bodyTypes: [application/json, application/x-www-form-urlencoded]
      body: { type: object, properties: { name: { type: string } } }
    response: { body: "{{ request.body }}" }
  - id: jsonOnly
    method: POST
    path: /json
    input:
      body: { type: object }
    response: { body: "{{ request.body }}" }
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test('br, gzip;q=0.5 gets brotli, with Vary: accept-encoding', async () => {
    const answer = await wire(`${gateway.url}/items`, { headers: { 'accept-encoding': 'br, gzip;q=0.5' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-encoding'], 'br');
    assert.match(String(answer.headers.vary), /accept-encoding/);
    assert.equal(Number(answer.headers['content-length']), answer.body.length);
    assert.deepEqual(JSON.parse(brotliDecompressSync(answer.body).toString()), TEN_KB_ITEMS);
    assert.ok(answer.body.length < JSON.stringify(TEN_KB_ITEMS).length / 4);
  });

  test('gzip gets gzip; a q-value ranks the codings, q=0 refuses one', async () => {
    const gzip = await wire(`${gateway.url}/items`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.deepEqual(JSON.parse(gunzipSync(gzip.body).toString()), TEN_KB_ITEMS);
    const ranked = await wire(`${gateway.url}/items`, {
      headers: { 'accept-encoding': 'br;q=0.2, gzip;q=0.9' },
    });
    assert.equal(ranked.headers['content-encoding'], 'gzip');
    const refused = await wire(`${gateway.url}/items`, {
      headers: { 'accept-encoding': 'br;q=0, gzip;q=0' },
    });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  test('identity, or no accept-encoding, gets the plain body', async () => {
    for (const headers of [{ 'accept-encoding': 'identity' }, {}] as Record<string, string>[]) {
      const answer = await wire(`${gateway.url}/items`, { headers });
      assert.equal(answer.headers['content-encoding'], undefined);
      assert.deepEqual(JSON.parse(answer.body.toString()), TEN_KB_ITEMS);
      assert.match(String(answer.headers.vary), /accept-encoding/);
    }
  });

  test('an answer under the threshold goes out uncompressed', async () => {
    const answer = await wire(`${gateway.url}/small`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(answer.headers['content-encoding'], undefined);
    assert.deepEqual(JSON.parse(answer.body.toString()), { ok: true });
  });

  test('a GET answer carries an ETag computed from its body; If-None-Match with it gets 304 and no body', async () => {
    const first = await wire(`${gateway.url}/items`, { headers: { 'accept-encoding': 'gzip' } });
    const etag = first.headers.etag;
    assert.match(String(etag), /^W\/"[\w-]+"$/);
    const again = await wire(`${gateway.url}/items`);
    assert.equal(again.headers.etag, etag, 'the same body has the same tag, whatever its coding');
    const calls = backend.calls.length;
    const revalidated = await wire(`${gateway.url}/items`, { headers: { 'if-none-match': String(etag) } });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.body.length, 0);
    assert.equal(revalidated.headers.etag, etag);
    assert.equal(backend.calls.length, calls + 1, 'a non-cached answer is computed, then compared');
    const changed = await wire(`${gateway.url}/items`, { headers: { 'if-none-match': 'W/"other"' } });
    assert.equal(changed.status, 200);
  });

  test('a POST answer has no ETag and ignores If-None-Match', async () => {
    const answer = await wire(`${gateway.url}/items`, { method: 'POST', headers: { 'if-none-match': '*' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.etag, undefined);
  });

  test('HEAD answers a GET route with its headers and no body', async () => {
    const get = await wire(`${gateway.url}/items`, { headers: { 'accept-encoding': 'gzip' } });
    const head = await wire(`${gateway.url}/items`, {
      method: 'HEAD',
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    assert.equal(head.headers.etag, get.headers.etag);
  });

  test('OPTIONS without CORS answers 204 with Allow listing the methods of the path', async () => {
    const answer = await wire(`${gateway.url}/items`, { method: 'OPTIONS' });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers.allow, 'GET, HEAD, POST, OPTIONS');
    const builtIn = await wire(`${gateway.url}/healthz`, { method: 'OPTIONS' });
    assert.equal(builtIn.status, 204);
    assert.equal(builtIn.headers.allow, 'GET, HEAD, OPTIONS');
    const missing = await wire(`${gateway.url}/nowhere`, { method: 'OPTIONS' });
    assert.equal(missing.status, 404);
  });

  test('a problem document over the threshold is compressed too', async () => {
    const answer = await wire(`${gateway.url}/${'x'.repeat(1200)}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(answer.status, 404);
    assert.equal(answer.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(answer.headers['content-encoding'], 'gzip');
    assert.equal(JSON.parse(gunzipSync(answer.body).toString()).code, 'CHORUS_ROUTE_NOT_FOUND');
  });

  test('the OpenAPI document is compressed and revalidates with its ETag', async () => {
    const answer = await wire(`${gateway.url}/openapi.json`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(answer.headers['content-encoding'], 'br');
    assert.equal(JSON.parse(brotliDecompressSync(answer.body).toString()).openapi.startsWith('3'), true);
    const again = await wire(`${gateway.url}/openapi.json`, {
      headers: { 'if-none-match': String(answer.headers.etag) },
    });
    assert.equal(again.status, 304);
  });

  test('the portal bundle is served precompressed, with a strong ETag (sizes in the test output)', async (t) => {
    const url = `${gateway.url}/portal/assets/swagger-ui-bundle.js`;
    const plain = await wire(url);
    assert.equal(plain.status, 200);
    let br: WireAnswer | undefined;
    // Served compressed at once; the strongest variant (brotli 9 for a file this size, compressed
    // once in the background) replaces the per-request one when ready: ~392 KB against ~420 KB.
    for (let attempt = 0; attempt < 200; attempt++) {
      br = await wire(url, { headers: { 'accept-encoding': 'br, gzip' } });
      assert.equal(br.headers['content-encoding'], 'br');
      if (br.body.length < 400_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(br?.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.body), plain.body);
    const gzip = await wire(url, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.match(String(plain.headers.etag), /^"[\w-]+"$/);
    const revalidated = await wire(url, { headers: { 'if-none-match': String(plain.headers.etag) } });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.body.length, 0);
    t.diagnostic(
      `swagger-ui-bundle.js: identity ${plain.body.length} B, gzip ${gzip.body.length} B, br ${br.body.length} B`,
    );
    assert.ok(br.body.length < plain.body.length / 3);
  });

  test('an image is never compressed', async () => {
    const answer = await wire(`${gateway.url}/portal/assets/favicon-32x32.png`, {
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-encoding'], undefined);
  });

  test('a form body is taken where the endpoint declares it, as an object of strings', async () => {
    const answer = await wire(`${gateway.url}/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Ada+Lovelace&tag=a&tag=b&__proto__=x',
    });
    assert.equal(answer.status, 200);
    const body = JSON.parse(answer.body.toString());
    assert.deepEqual(body, { name: 'Ada Lovelace', tag: ['a', 'b'], ['__proto__']: 'x' });
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  test('a form body where the endpoint takes JSON only gets 415', async () => {
    const answer = await wire(`${gateway.url}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Ada',
    });
    assert.equal(answer.status, 415);
    assert.equal(JSON.parse(answer.body.toString()).code, 'CHORUS_UNSUPPORTED_MEDIA_TYPE');
  });

  test('gzip, deflate and br request bodies are decoded', async () => {
    const json = JSON.stringify({ name: 'compressed' });
    for (const [coding, body] of [
      ['gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
    ] as const) {
      const answer = await wire(`${gateway.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
        body,
      });
      assert.equal(answer.status, 200, coding);
      assert.deepEqual(JSON.parse(answer.body.toString()), { name: 'compressed' });
    }
  });

  test('an unknown content coding gets 415; a body that does not decode gets 400', async () => {
    const unknown = await wire(`${gateway.url}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
      body: '{}',
    });
    assert.equal(unknown.status, 415);
    const broken = await wire(`${gateway.url}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: '{"not": "gzip"}',
    });
    assert.equal(broken.status, 400);
    assert.equal(JSON.parse(broken.body.toString()).code, 'CHORUS_BAD_CONTENT_ENCODING');
  });

  test('a gzip bomb gets 413, counted after decompression (a small upload of 20 MB of zeros)', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    assert.ok(bomb.length < 64 * 1024, `the upload itself is small (${bomb.length} bytes)`);
    const answer = await wire(`${gateway.url}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.body.toString()).code, 'CHORUS_BODY_TOO_LARGE');
  });

  test('an endless gzip stream gets 413 as soon as its decoded size passes the limit (decoding stops there)', async () => {
    const zeros = Buffer.alloc(64 * 1024);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${gateway.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      const gzip = createGzip();
      gzip.pipe(req);
      // Never ends: without the limit counting decoded bytes, no answer would come.
      const timer = setInterval(() => gzip.write(zeros), 1);
      req.on('response', (res) => {
        clearInterval(timer);
        gzip.unpipe(req);
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (error) => {
        clearInterval(timer);
        reject(error);
      });
    });
    assert.equal(status, 413);
  });
});
