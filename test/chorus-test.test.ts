/**
 * `chorus test` as a user runs it: a separate process over test files, its report and exit code.
 * The MediaCo suite needs no backend process: the connectors' transports are stood in for.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/chorus.js', import.meta.url));
const MEDIACO = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'chorus-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // No broker or backend address is reachable: whatever the tests need must be stood in for.
    const env = { ...process.env, NATS_URL: 'nats://127.0.0.1:1', LOOKUP_URL: 'http://127.0.0.1:1' };
    execFile(process.execPath, [CLI, 'test', ...args], { timeout: 50_000, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A test file in the temporary folder, calling the MediaCo gateway. */
function testFile(name: string, yaml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `config: ${JSON.stringify(MEDIACO)}\n${yaml}`);
  return file;
}

const ALBUM_TEST = `tests:
  - name: an album
    request: { path: /catalog/items/mc-0101, headers: { x-api-key: mediaco-demo-pro-key } }
    backends:
      lookup:
        locate: { body: { id: mc-0101, provider: nordic-music, ref: "7" } }
      ratings-http:
        get: { body: null }
      nordic-music:
        GetAlbum:
          output:
            album: { albumId: 7, title: Polar Echoes, artist: Saga North, year: YEAR, genre: folk }
    expect:
      status: 200
      body: { $subset: { title: Polar Echoes, year: 2003, genres: [folk] } }
`;

describe('chorus test', () => {
  test('the MediaCo suite passes with no backend running, every test on its own line', async () => {
    const { code, stdout, stderr } = await run([MEDIACO]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /✔ an album comes from nordic-music over SOAP/);
    assert.match(stdout, /✔ with RATINGS_TRANSPORT=nats the rating comes by NATS request\/reply/);
    assert.match(stdout, /✔ the cached item is served from cache until a review drops it/);
    assert.match(stdout, /^25 passed, 0 failed$/m);
  });

  test('a wrong expectation fails with a diff at its JSON path and exit code 1', async () => {
    const file = testFile(
      'wrong.test.yaml',
      ALBUM_TEST.replace('YEAR', '2003').replace('genres: [folk]', 'genres: [jazz]'),
    );
    const { code, stdout } = await run([file]);
    assert.equal(code, 1);
    assert.match(stdout, /✖ an album/);
    assert.match(stdout, /body at \$\.genres\[0\]: differs\n\s+expected: "jazz"\n\s+actual: {3}"folk"/);
    assert.match(stdout, /^0 passed, 1 failed$/m);
  });

  test('a SOAP answer its WSDL does not allow fails at load, at the answer', async () => {
    const file = testFile('bad-soap.test.yaml', ALBUM_TEST.replace('YEAR', 'nineteen'));
    const { code, stdout, stderr } = await run([file]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    const line = ALBUM_TEST.split('\n').findIndex((text) => text.includes('output:')) + 3; // the config line, 1-based, the value below the key
    assert.match(
      stderr,
      new RegExp(
        `bad-soap\\.test\\.yaml:${line}:\\d+ the declared answer does not fit: .*year is "nineteen", not an integer`,
      ),
    );
  });

  test('a malformed test file is reported at file:line:col without a stack trace', async () => {
    const file = testFile('broken.test.yaml', 'tests:\n  - name: x\n    request: { path: /x\n');
    const { code, stderr } = await run([file]);
    assert.equal(code, 1);
    assert.match(stderr, /broken\.test\.yaml:\d+:\d+ YAML syntax/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/);
  });

  test('an unknown key in a test is reported with its position', async () => {
    const file = testFile(
      'typo.test.yaml',
      'tests:\n  - name: x\n    request: { path: /x }\n    expekt: {}\n',
    );
    const { code, stderr } = await run([file]);
    assert.equal(code, 1);
    assert.match(stderr, /typo\.test\.yaml:5:5 unknown key "expekt"/);
  });

  test('an answer for an operation the service does not have is reported at it', async () => {
    const file = testFile(
      'operation.test.yaml',
      'tests:\n  - name: x\n    request: { path: /x }\n    backends: { lookup: { lokate: { body: {} } } }\n',
    );
    const { code, stderr } = await run([file]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /operation\.test\.yaml:5:27 service "lookup" has no operation "lokate" \(operations: locate, related, reverse\)/,
    );
  });

  test('--reporter junit and --filter pick the tests and write JUnit XML', async () => {
    const { code, stdout } = await run([MEDIACO, '--filter', 'GraphQL', '--reporter', 'junit']);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /<testsuites tests="1" failures="0">/);
    assert.match(stdout, /<testcase name="a series comes from anime-tv over GraphQL"/);
  });

  test('--update rewrites a failing expectation from the answer, and the test then passes', async () => {
    const file = testFile(
      'update.test.yaml',
      ALBUM_TEST.replace('YEAR', '2003').replace('status: 200', 'status: 201'),
    );
    assert.equal((await run([file, '--update'])).code, 0);
    assert.match(readFileSync(file, 'utf8'), /status: 200/);
    const { code, stdout } = await run([file]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^1 passed, 0 failed$/m);
  });

  test('declared GraphQL data the schema does not allow fails the call as the service would', async () => {
    const file = path.join(dir, 'graphql.test.yaml');
    copyFileSync(
      fileURLToPath(new URL('../examples/mediaco/tests/anime-tv.graphql', import.meta.url)),
      path.join(dir, 'anime-tv.graphql'),
    );
    writeFileSync(
      file,
      `config: ${JSON.stringify(MEDIACO)}
graphqlSchemas: { anime-tv: anime-tv.graphql }
tests:
  - name: a series whose premiere year is not an Int
    request: { path: /catalog/items/mc-0201, headers: { x-api-key: mediaco-demo-pro-key } }
    backends:
      lookup: { locate: { body: { id: mc-0201, provider: anime-tv, ref: s-9 } } }
      ratings-http: { get: { body: null } }
      anime-tv:
        series: { data: { series: { id: s-9, title: T, premiered: "twenty eleven", studio: S, genres: [], episodeCount: 1 } } }
    expect: { status: 200 }
`,
    );
    const { code, stdout } = await run([file]);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /status: expected 200, got 502 \(CHORUS_UPSTREAM_PROTOCOL: .*Int cannot represent non-integer value: "twenty eleven"\)/,
    );
  });

  test('a balanced service with health checks keeps its hosts under test', async () => {
    writeFileSync(
      path.join(dir, 'hc.yaml'),
      `services:
  api:
    kind: http
    urls: [http://127.0.0.1:1, http://127.0.0.1:2]
    loadBalancing: { healthCheck: { path: /health, interval: 50ms } }
    operations: { get: { path: /x } }
endpoints:
  - id: x
    method: GET
    path: /x
    flow: [{ id: a, call: api.get }]
    response: { body: "{{ steps.a }}" }
`,
    );
    const file = path.join(dir, 'hc.test.yaml');
    writeFileSync(
      file,
      `config: hc.yaml
tests:
  - name: balanced hosts with health checks still get their calls
    request: { path: /x }
    backends: { api: { get: { body: { ok: 1 } } } }
    next:
      - request: { path: /x }
        expect: { status: 200, body: { ok: 1 } }
    expect: { status: 200, body: { ok: 1 } }
`,
    );
    const { code, stdout, stderr } = await run([file]);
    assert.equal(code, 0, stdout + stderr);
  });

  test('a TypeScript test file exporting the same object runs like a YAML one', async () => {
    const file = path.join(dir, 'typed.test.ts');
    writeFileSync(
      file,
      `export default {
  config: ${JSON.stringify(MEDIACO)},
  tests: [
    {
      name: 'a key that is not known answers 401',
      request: { path: '/catalog/items/mc-0001', headers: { 'x-api-key': 'not-a-key' } },
      expect: { status: 401, calls: { 'lookup.locate': 0 } },
    },
  ],
};
`,
    );
    const { code, stdout, stderr } = await run([file]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /✔ a key that is not known answers 401/);
  });

  test('gRPC messages and statuses and AMQP replies are declared in their own terms', async () => {
    const fixtures = fileURLToPath(new URL('../src/connectors/grpc/fixtures/', import.meta.url));
    for (const proto of ['catalog.proto', 'common.proto'])
      copyFileSync(path.join(fixtures, proto), path.join(dir, proto));
    writeFileSync(path.join(dir, 'gateway.yaml'), GRPC_AMQP_GATEWAY);
    writeFileSync(path.join(dir, 'item.test.yaml'), GRPC_AMQP_TESTS);
    const { code, stdout, stderr } = await run([path.join(dir, 'item.test.yaml')]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^3 passed, 0 failed$/m);
  });
});

const GRPC_AMQP_GATEWAY = `services:
  catalog:
    kind: grpc
    url: grpc://127.0.0.1:1
    proto: catalog.proto
    service: catalog.v1.Catalog
    timeout: 300ms
  prices:
    kind: amqp
    url: amqp://127.0.0.1:1
    operations:
      quote: { routingKey: prices.quote }
      audit: { mode: publish, routingKey: prices.audit }
endpoints:
  - id: item
    method: GET
    path: /items/{id}
    flow:
      - id: item
        call: catalog.GetItem
        input: { message: { id: "{{ request.params.id }}" } }
      - id: price
        call: prices.quote
        input: { body: { id: "{{ request.params.id }}" } }
        onError: { fallback: "null" }
      - id: audit
        call: prices.audit
        input: { body: { id: "{{ request.params.id }}" } }
    response:
      body:
        id: "{{ steps.item.id }}"
        title: "{{ steps.item.title }}"
        views: "{{ steps.item.views }}"
        kind: "{{ steps.item.kind }}"
        price: "{{ steps.price }}"
`;

const GRPC_AMQP_TESTS = `config: gateway.yaml
tests:
  - name: grpc message and amqp reply
    request: { path: /items/i-1 }
    backends:
      catalog:
        GetItem: { input: { message: { id: i-1 } }, message: { id: i-1, title: Dune, views: "42", kind: BOOK } }
      prices:
        quote: { reply: { amount: 9.5 } }
        audit: {}
    expect:
      status: 200
      body: { id: i-1, title: Dune, views: "42", kind: BOOK, price: { amount: 9.5 } }
      calls: { catalog.GetItem: 1, prices.quote: 1, prices.audit: 1 }
  - name: grpc NOT_FOUND status and amqp unroutable
    request: { path: /items/i-2 }
    backends:
      catalog:
        GetItem: { grpcStatus: { code: 5, message: no such item } }
      prices:
        quote: { failure: transport }
        audit: {}
    expect:
      status: 502
      body: { $subset: { code: CHORUS_UPSTREAM_PROTOCOL, grpcStatus: NOT_FOUND } }
  - name: a grpc timeout
    request: { path: /items/i-3 }
    backends:
      catalog:
        GetItem: { failure: timeout }
      prices:
        quote: { reply: 1 }
        audit: {}
    expect:
      status: 504
`;
