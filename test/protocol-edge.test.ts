/**
 * What node:http itself refuses, answered as problem+json with a catalogue code; a 413 the client
 * reads even while it is still sending; headersTimeout holding on time; HEAD answered as GET.
 * Every request here is written on a raw socket, as a hostile or broken client would.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startTestGateway } from './support/gateway.ts';
import { type RawAnswer, rawRequest } from './support/raw-http.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

function assertProblem(answer: RawAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.raw.slice(0, 300));
  assert.equal(answer.headers['content-type'], PROBLEM);
  const problem = JSON.parse(answer.body) as { code: string; status: number; requestId: string };
  assert.equal(problem.code, code);
  assert.equal(problem.status, status);
  assert.equal(answer.headers['x-request-id'], problem.requestId);
  assert.equal(answer.error, undefined, `the client saw ${answer.error}`);
}

describe('the edge, as a raw socket sees it', () => {
  let gateway: Gateway;
  let port: number;

  before(async () => {
    gateway = await startTestGateway(`
server: { bodyLimit: 64kb, headersTimeout: 1s }
endpoints:
  - method: GET
    path: "/items/{id}"
    flow: [{ id: item, map: { id: "{{ request.params.id }}", name: "widget" } }]
    response: { body: "{{ steps.item }}", headers: { x-kind: item } }
  - method: POST
    path: /orders
    input: { body: { type: object, properties: { sku: { type: string } } } }
    flow: [{ id: saved, map: { ok: true } }]
`);
    port = Number(new URL(gateway.url).port);
  });

  after(() => gateway.close());

  const refused: [string, string | Buffer, number, string][] = [
    [
      'Content-Length with Transfer-Encoding',
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'CHORUS_BAD_REQUEST_SYNTAX',
    ],
    [
      'two Content-Length headers',
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'CHORUS_BAD_REQUEST_SYNTAX',
    ],
    [
      'a NUL in a header value',
      'GET /items/1 HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n',
      400,
      'CHORUS_BAD_REQUEST_SYNTAX',
    ],
    [
      'a bare CR in a header value',
      'GET /items/1 HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n',
      400,
      'CHORUS_BAD_REQUEST_SYNTAX',
    ],
    [
      'a non-ASCII byte in the path',
      Buffer.concat([
        Buffer.from('GET /caf'),
        Buffer.from([0xc3, 0xa9]),
        Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]),
      400,
      'CHORUS_BAD_REQUEST_SYNTAX',
    ],
    ['a malformed method', 'G@T /items/1 HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'CHORUS_METHOD_NOT_IMPLEMENTED'],
    ['an unknown method', 'BREW /items/1 HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'CHORUS_METHOD_NOT_IMPLEMENTED'],
    [
      'an unknown Expect',
      'GET /items/1 HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n',
      417,
      'CHORUS_EXPECTATION_FAILED',
    ],
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      501,
      'CHORUS_METHOD_NOT_IMPLEMENTED',
    ],
  ];
  for (const [name, head, status, code] of refused) {
    test(`${name}: ${status} ${code} as problem+json, then the connection closes`, async () => {
      const answer = await rawRequest(port, head, { timeoutMs: 3000 });
      assertProblem(answer, status, code);
      assert.equal(answer.headers.connection, 'close');
    });
  }

  test('a declared body over bodyLimit: the client that keeps sending 10 MB still reads the 413', async () => {
    const size = 10 * 1024 * 1024;
    const answer = await rawRequest(
      port,
      `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
      { body: Buffer.alloc(size, 32) },
    );
    assertProblem(answer, 413, 'CHORUS_BODY_TOO_LARGE');
  });

  test('a chunked body that grows over bodyLimit: the client reads the 413', async () => {
    const chunk = Buffer.alloc(0x100000, 32);
    const parts: Buffer[] = [];
    for (let i = 0; i < 8; i++) parts.push(Buffer.from('100000\r\n'), chunk, Buffer.from('\r\n'));
    const body = Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
    const answer = await rawRequest(
      port,
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      { body },
    );
    assertProblem(answer, 413, 'CHORUS_BODY_TOO_LARGE');
  });

  test('a 2 MB body sent to a GET endpoint that reads none: the client reads the 413', async () => {
    const size = 2 * 1024 * 1024;
    const answer = await rawRequest(
      port,
      `GET /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`,
      {
        body: Buffer.alloc(size, 32),
      },
    );
    assertProblem(answer, 413, 'CHORUS_BODY_TOO_LARGE');
  });

  test('Expect: 100-continue with a body over the limit gets the 413 without a 100 Continue', async () => {
    const answer = await rawRequest(
      port,
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n',
    );
    assertProblem(answer, 413, 'CHORUS_BODY_TOO_LARGE');
    assert.doesNotMatch(answer.raw, /100 Continue/);
  });

  test('Expect: 100-continue within the limit gets 100 Continue, then the answer', async () => {
    const answer = await rawRequest(
      port,
      'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      { body: Buffer.from('{}') },
    );
    assert.match(answer.raw, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  });

  test('a head trickled one byte every 200 ms is answered 408 and closed within a second of headersTimeout (1 s)', async () => {
    const head = Buffer.from(
      'GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n',
    );
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < head.length && socket.writable) socket.write(head.subarray(sent, ++sent));
    }, 200);
    await new Promise((resolve) => socket.on('close', resolve));
    clearInterval(trickle);
    const closedAfter = performance.now() - started;
    console.log(`slow head: closed ${Math.round(closedAfter)} ms after connecting (headersTimeout 1000 ms)`);
    assert.ok(closedAfter >= 1000 && closedAfter <= 2500, `closed after ${Math.round(closedAfter)} ms`);
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"code":"CHORUS_REQUEST_TIMEOUT"/);
  });

  test('HEAD on a GET endpoint: the same status and headers as GET, no body', async () => {
    const get = await rawRequest(port, 'GET /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const head = await rawRequest(port, 'HEAD /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(get.status, 200);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], get.headers['content-type']);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    assert.equal(head.headers['x-kind'], 'item');
    assert.ok(head.raw.endsWith('\r\n\r\n'), 'no body after the head');
    assert.deepEqual(JSON.parse(get.body), { id: '7', name: 'widget' });
    const res = await fetch(`${gateway.url}/healthz`, { method: 'HEAD' });
    assert.equal(res.status, 200);
  });

  test('after all of that, the gateway still answers', async () => {
    const res = await fetch(`${gateway.url}/items/1`);
    assert.equal(res.status, 200);
  });
});
