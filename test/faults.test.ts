/**
 * The fault suite (issue 14): real loopback backends that hang, reset mid-body, truncate, send
 * garbage (malformed JSON, HTML labelled JSON), send 200 MB, answer slowly or trickle bytes. For
 * each, the gateway answers the right 502/504 problem naming the service and operation within the
 * configured time (step timeout 300 ms), and the next request (to the same backend's healthy
 * path and to another service) is answered correctly. A malformed answer is never cached.
 * Each fault's status, code and time are reported as test diagnostics.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';

const STEP_TIMEOUT_MS = 300;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const GARBAGE = '{"items": [1, 2, nope]]]}} <html>';
const HTML = '<!doctype html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';

/** Bytes the 200 MB answers got written before the gateway cut them off. */
const streamed = { chunked: 0, declared: 0 };

/** Streams `total` bytes of a JSON array, honouring backpressure; stops when the socket goes. */
function stream200MB(res: ServerResponse, declared: boolean): void {
  const total = 200 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, '1,');
  res.writeHead(200, {
    'content-type': 'application/json',
    ...(declared ? { 'content-length': total } : {}),
  });
  let written = 0;
  const counter = declared ? 'declared' : 'chunked';
  const pump = (): void => {
    while (written < total && !res.destroyed) {
      written += chunk.length;
      streamed[counter] = written;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

const timers = new Set<NodeJS.Timeout>();
function later(ms: number, run: () => void): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    run();
  }, ms);
  timers.add(timer);
}

/** The faulty backend: one fault per path, and /ok answering well. */
function faulty(req: { url?: string | undefined }, res: ServerResponse): void {
  const socket = res.socket!;
  switch (req.url) {
    case '/ok':
      json(res, 200, { ok: true, items: [1, 2, 3] });
      return;
    case '/hang':
      return;
    case '/reset-mid-body':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"items": [1, 2, 3,');
      later(20, () => socket.resetAndDestroy());
      return;
    case '/truncated':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write('{"items": [1, 2, 3,');
      later(20, () => socket.end());
      return;
    case '/garbage':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(GARBAGE);
      return;
    case '/html':
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(HTML);
      return;
    case '/huge-chunked':
      stream200MB(res, false);
      return;
    case '/huge-declared':
      stream200MB(res, true);
      return;
    case '/slow':
      json(res, 200, { late: true }, 1500);
      return;
    case '/trickle': {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const drip = setInterval(() => {
        if (res.destroyed) clearInterval(drip);
        else res.write('1,');
      }, 40);
      res.on('close', () => clearInterval(drip));
      return;
    }
    default:
      json(res, 404, { error: 'no such fault' });
  }
}

interface Answer {
  status: number;
  ms: number;
  text: string;
  body: Record<string, unknown>;
  headers: Headers;
}

describe('faults of a backend', () => {
  let backend: TestBackend;
  let healthy: TestBackend;
  let gateway: Gateway;
  const figures: string[] = [];

  before(async () => {
    backend = await startBackend((req, res) => faulty(req, res));
    healthy = await startBackend((_req, res) => json(res, 200, { healthy: true }));
    const faults = [
      'hang',
      'reset-mid-body',
      'truncated',
      'garbage',
      'html',
      'huge-chunked',
      'huge-declared',
      'slow',
      'trickle',
    ];
    const operations = [...faults, 'ok'].map((name) => `      ${name}: { path: /${name} }`).join('\n');
    const forwarded = [...faults, 'ok']
      .map(
        (name) => `
  - method: GET
    path: /f/${name}
    timeout: 5s
    flow:
      - { id: r, call: flaky.${name} }
    response:
      body: "{{ steps.r }}"
  - method: GET
    path: /d/${name}
    timeout: 5s
    flow:
      - { id: r, call: flaky.${name} }
    response:
      body: { got: "{{ steps.r }}" }`,
      )
      .join('');
    gateway = await startTestGateway(`
services:
  flaky:
    kind: http
    url: ${backend.url}
    timeout: ${STEP_TIMEOUT_MS}ms
    maxResponseBytes: ${MAX_RESPONSE_BYTES}
    operations:
${operations}
  healthy:
    kind: http
    url: ${healthy.url}
    timeout: ${STEP_TIMEOUT_MS}ms
    operations:
      get: { path: /get }
endpoints:${forwarded}
  - method: GET
    path: /healthy
    flow:
      - { id: r, call: healthy.get }
    response:
      body: "{{ steps.r }}"
  - method: GET
    path: /deadline
    timeout: ${STEP_TIMEOUT_MS}ms
    flow:
      - { id: r, call: flaky.hang, timeout: 10s }
    response:
      body: "{{ steps.r }}"
`);
  });

  after(async () => {
    for (const timer of timers) clearTimeout(timer);
    await gateway.close();
    await Promise.all([backend.close(), healthy.close()]);
  });

  async function get(path: string): Promise<Answer> {
    const started = performance.now();
    const res = await fetch(gateway.url + path);
    const text = await res.text();
    const ms = performance.now() - started;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {}
    return { status: res.status, ms, text, body, headers: res.headers };
  }

  /** The fault's answer is the right problem, in time; then the next requests are right. */
  async function expectFault(
    path: string,
    status: number,
    code: string,
    operation: string,
    withinMs: number,
  ): Promise<Answer> {
    const answer = await get(path);
    figures.push(`${path}: ${answer.status} ${String(answer.body.code)} in ${answer.ms.toFixed(0)} ms`);
    assert.equal(answer.status, status, answer.text.slice(0, 300));
    assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(answer.body.code, code);
    assert.equal(answer.body.service, 'flaky');
    assert.equal(answer.body.operation, operation);
    assert.ok(answer.ms < withinMs, `${path} answered after ${answer.ms.toFixed(0)} ms (bound ${withinMs})`);
    assert.ok(!answer.text.includes('nope') && !answer.text.includes('<html>'), 'no backend bytes leak');
    const next = await get('/healthy');
    assert.equal(next.status, 200);
    assert.deepEqual(next.body, { healthy: true });
    const same = await get('/f/ok');
    assert.equal(same.status, 200);
    assert.deepEqual(same.body, { ok: true, items: [1, 2, 3] });
    return answer;
  }

  const bound = STEP_TIMEOUT_MS + 700;

  for (const prefix of ['/f', '/d']) {
    const how = prefix === '/f' ? 'forwarded as it came' : 'decoded into the response';
    test(`${how}: a backend that hangs gives 504 CHORUS_UPSTREAM_TIMEOUT at the step timeout`, async () => {
      const answer = await expectFault(`${prefix}/hang`, 504, 'CHORUS_UPSTREAM_TIMEOUT', 'hang', bound);
      assert.ok(answer.ms >= STEP_TIMEOUT_MS - 20);
    });

    test(`${how}: a reset mid-body gives 502 CHORUS_UPSTREAM_TRANSPORT`, async () => {
      await expectFault(
        `${prefix}/reset-mid-body`,
        502,
        'CHORUS_UPSTREAM_TRANSPORT',
        'reset-mid-body',
        bound,
      );
    });

    test(`${how}: a truncated body gives 502 CHORUS_UPSTREAM_TRANSPORT`, async () => {
      await expectFault(`${prefix}/truncated`, 502, 'CHORUS_UPSTREAM_TRANSPORT', 'truncated', bound);
    });

    test(`${how}: malformed JSON gives 502 CHORUS_UPSTREAM_DECODE`, async () => {
      await expectFault(`${prefix}/garbage`, 502, 'CHORUS_UPSTREAM_DECODE', 'garbage', bound);
    });

    test(`${how}: an HTML page labelled application/json gives 502 CHORUS_UPSTREAM_DECODE`, async () => {
      await expectFault(`${prefix}/html`, 502, 'CHORUS_UPSTREAM_DECODE', 'html', bound);
    });

    test(`${how}: an answer that slows past the step timeout gives 504 CHORUS_UPSTREAM_TIMEOUT`, async () => {
      await expectFault(`${prefix}/slow`, 504, 'CHORUS_UPSTREAM_TIMEOUT', 'slow', bound);
    });

    test(`${how}: a trickling body gives 504 CHORUS_UPSTREAM_TIMEOUT at the step timeout`, async () => {
      await expectFault(`${prefix}/trickle`, 504, 'CHORUS_UPSTREAM_TIMEOUT', 'trickle', bound);
    });
  }

  test('200 MB streamed without a length is cut at maxResponseBytes: 502 CHORUS_UPSTREAM_TOO_LARGE', async () => {
    await expectFault('/f/huge-chunked', 502, 'CHORUS_UPSTREAM_TOO_LARGE', 'huge-chunked', 2000);
    // The gateway stopped reading near the cap: the backend got nowhere near 200 MB out.
    assert.ok(streamed.chunked < 32 * 1024 * 1024, `backend wrote ${streamed.chunked} bytes`);
  });

  test('200 MB with a declared length is refused before its body: 502 CHORUS_UPSTREAM_TOO_LARGE', async () => {
    await expectFault('/d/huge-declared', 502, 'CHORUS_UPSTREAM_TOO_LARGE', 'huge-declared', 2000);
    assert.ok(streamed.declared < 32 * 1024 * 1024, `backend wrote ${streamed.declared} bytes`);
  });

  test('a request deadline shorter than the step gives 504 CHORUS_DEADLINE_EXCEEDED naming the call', async () => {
    const answer = await expectFault('/deadline', 504, 'CHORUS_DEADLINE_EXCEEDED', 'hang', bound);
    assert.equal(answer.body.step, 'r');
    assert.deepEqual(answer.body.pending, [{ step: 'r', service: 'flaky', operation: 'hang' }]);
  });

  test('the figures', (t) => {
    for (const line of figures) t.diagnostic(line);
    t.diagnostic(
      `200 MB answers: the backend wrote ${streamed.chunked} bytes (chunked) and ${streamed.declared} (declared) before the gateway cut them off`,
    );
  });
});

describe('a malformed answer is never cached', () => {
  let backend: TestBackend;
  let gateway: Gateway;
  let bad = true;

  before(async () => {
    backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(bad ? GARBAGE : '{"fine":true}');
    });
    gateway = await startTestGateway(`
services:
  flaky:
    kind: http
    url: ${backend.url}
    operations:
      flip: { path: /flip }
endpoints:
  - method: GET
    path: /cached
    policies: { cache: { ttl: 1m } }
    flow:
      - { id: r, call: flaky.flip }
    response:
      body: "{{ steps.r }}"
  - method: GET
    path: /step-cached
    flow:
      - { id: r, call: flaky.flip, cache: { ttl: 1m, key: "'flip'" } }
    response:
      body: "{{ steps.r }}"
`);
  });
  after(async () => {
    await gateway.close();
    await backend.close();
  });

  for (const path of ['/cached', '/step-cached']) {
    test(`${path}: garbage is answered 502 and not stored; the next good answer is, and is served from the cache`, async () => {
      bad = true;
      const calls = backend.calls.length;
      const first = await fetch(gateway.url + path);
      assert.equal(first.status, 502);
      assert.equal(((await first.json()) as { code: string }).code, 'CHORUS_UPSTREAM_DECODE');
      // Still garbage: the backend is asked again (nothing was stored), and it is 502 again.
      const again = await fetch(gateway.url + path);
      assert.equal(again.status, 502);
      await again.text();
      assert.equal(backend.calls.length, calls + 2);
      bad = false;
      const good = await fetch(gateway.url + path);
      assert.equal(good.status, 200);
      assert.equal(await good.text(), '{"fine":true}');
      assert.equal(backend.calls.length, calls + 3);
      // Now stored: a hit, without calling the backend, even though it would send garbage again.
      bad = true;
      const hit = await fetch(gateway.url + path);
      assert.equal(hit.status, 200);
      assert.equal(await hit.text(), '{"fine":true}');
      assert.equal(backend.calls.length, calls + 3);
    });
  }
});
