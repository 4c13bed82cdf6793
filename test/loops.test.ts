/**
 * Repeating steps (`repeat`) end to end: real loopback backends paginated by cursor, GraphQL
 * pageInfo, RFC 8288 Link headers and page numbers with a total; the bounds, the deadline and
 * the load-time checks.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { buildSchema, graphql } from 'graphql';
import { pino } from 'pino';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { type Gateway, startGateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway, writeConfig } from './support/gateway.ts';
import { CATALOG_PROTO, PROTO_DIR, startGrpcBackend } from './support/grpc-backend.ts';

const FLIGHTS = Array.from({ length: 7 }, (_, i) => ({ id: `F${i + 1}` }));

/** A GraphQL server with a Relay-style connection of the 7 flights, 3 per page. */
async function startFlightsGraphql(): Promise<{ url: string; calls: number; close(): Promise<void> }> {
  const schema = buildSchema(`
    type Flight { id: ID! }
    type PageInfo { hasNextPage: Boolean!, endCursor: String }
    type FlightConnection { nodes: [Flight!]!, pageInfo: PageInfo! }
    type Query { flights(first: Int!, after: String): FlightConnection! }
  `);
  const rootValue = {
    flights: ({ first, after: cursor }: { first: number; after?: string | null }) => {
      const start = cursor ? Number(cursor) : 0;
      const nodes = FLIGHTS.slice(start, start + first);
      const end = start + nodes.length;
      return { nodes, pageInfo: { hasNextPage: end < FLIGHTS.length, endCursor: String(end) } };
    },
  };
  const state = { url: '', calls: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        query: string;
        variables?: Record<string, unknown>;
      };
      if (!body.query.includes('__schema')) state.calls++;
      void graphql({ schema, source: body.query, rootValue, variableValues: body.variables ?? null }).then(
        (result) => json(res, 200, result),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

describe('repeating steps (pagination)', () => {
  let rest: TestBackend;
  let releasePages: () => void = () => {};
  let pagesGate: Promise<void>;
  let gql: Awaited<ReturnType<typeof startFlightsGraphql>>;
  let gateway: Gateway;

  before(async () => {
    pagesGate = new Promise((resolve) => {
      releasePages = resolve;
    });
    rest = await startBackend(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/cursor') {
        // 3 pages of 2, 2 and 1 flights, chained by next_cursor.
        const cursor = url.searchParams.get('cursor') ?? 'p1';
        const pages: Record<string, { flights: unknown[]; next_cursor: string | null }> = {
          p1: { flights: [{ id: 'A' }, { id: 'B' }], next_cursor: 'p2' },
          p2: { flights: [{ id: 'C' }, { id: 'D' }], next_cursor: 'p3' },
          p3: { flights: [{ id: 'E' }], next_cursor: null },
        };
        return json(res, 200, pages[cursor] ?? { flights: [], next_cursor: null });
      }
      if (url.pathname === '/forever') {
        return json(res, 200, { flights: [{ id: 'X' }], next_cursor: 'same' });
      }
      if (url.pathname === '/linked') {
        // 10 flights, 4 per page, the next page in an RFC 8288 Link header.
        const page = Number(url.searchParams.get('page') ?? '1');
        const per = Number(url.searchParams.get('per_page') ?? '4');
        const all = Array.from({ length: 10 }, (_, i) => ({ id: `L${i + 1}` }));
        const slice = all.slice((page - 1) * per, page * per);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (page * per < all.length) {
          headers.link = `<http://elsewhere.example/linked?page=${page + 1}&per_page=${per}>; rel="next", <http://elsewhere.example/linked?page=1&per_page=${per}>; rel="first"`;
        }
        res.writeHead(200, headers);
        res.end(JSON.stringify(slice));
        return;
      }
      if (url.pathname === '/paged') {
        // 5 pages of 2; pages 2..5 wait until all four are in flight at once.
        const page = Number(url.searchParams.get('page'));
        if (page > 1 && url.searchParams.get('gate') === 'yes') {
          if (rest.inFlight >= 4) releasePages();
          await pagesGate;
        }
        const items = [{ n: page * 2 - 1 }, { n: page * 2 }];
        return json(res, 200, { page, total_pages: 5, items });
      }
      if (url.pathname === '/slow') {
        return json(res, 200, { flights: [{ id: 'S' }], next_cursor: 'again' }, 150);
      }
      json(res, 404, { error: 'no' });
    });
    gql = await startFlightsGraphql();
    gateway = await startTestGateway(`
services:
  flights:
    kind: http
    url: ${rest.url}
    operations:
      cursor: { path: /cursor }
      forever: { path: /forever }
      linked: { path: /linked }
      paged: { path: /paged }
      slow: { path: /slow }
  graph:
    kind: graphql
    url: ${gql.url}
    operations:
      flights:
        query: |
          query Flights($after: String) {
            flights(first: 3, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
          }
endpoints:
  - method: GET
    path: /cursor
    flow:
      - id: flights
        call: flights.cursor
        input: { query: { cursor: "{{ page.state.cursor }}" } }
        repeat:
          maxRounds: 10
          state: { cursor: null }
          items: page.output.flights
          next: "{'cursor': page.output.next_cursor}"
          while: page.output.next_cursor != null
  - method: GET
    path: /forever
    flow:
      - id: flights
        call: flights.forever
        input: { query: { cursor: "{{ page.state.cursor }}" } }
        repeat:
          maxRounds: 4
          state: { cursor: null }
          items: page.output.flights
          next: "{'cursor': page.output.next_cursor}"
  - method: GET
    path: /forever-partial
    flow:
      - id: flights
        call: flights.forever
        repeat:
          maxRounds: 3
          items: page.output.flights
          next: "{'cursor': page.output.next_cursor}"
          onLimit: partial
    response:
      body: { flights: "{{ steps.flights }}" }
  - method: GET
    path: /graphql
    flow:
      - id: flights
        call: graph.flights
        input: { variables: { after: "{{ page.state.after }}" } }
        repeat:
          maxRounds: 10
          state: { after: null }
          items: page.output.flights.nodes
          while: page.output.flights.pageInfo.hasNextPage
          next: "{'after': page.output.flights.pageInfo.endCursor}"
    response:
      body: "{{ steps.flights.map(f, f.id) }}"
  - method: GET
    path: /linked
    flow:
      - id: flights
        call: flights.linked
        input: { query: "{{ page.state }}" }
        repeat:
          maxRounds: 10
          state: { page: 1, per_page: 4 }
          next: urlQuery(link(page.headers, 'next'))
    response:
      body: "{{ steps.flights.map(f, f.id) }}"
  - method: GET
    path: /paged
    flow:
      - id: items
        call: flights.paged
        input: { query: { page: "{{ page.round + 1 }}", gate: "yes" } }
        repeat:
          maxRounds: 20
          items: page.output.items
          rounds: page.output.total_pages
          concurrency: 4
          reduce: "{'count': size(page.items), 'ns': page.items.map(i, i.n), 'rounds': page.rounds}"
  - method: GET
    path: /paged-capped
    flow:
      - id: items
        call: flights.paged
        input: { query: { page: "{{ page.round + 1 }}" } }
        repeat:
          maxRounds: 3
          items: page.output.items
          rounds: page.output.total_pages
          onLimit: partial
    response:
      body: { ns: "{{ steps.items.map(i, i.n) }}" }
  - method: GET
    path: /max-items
    flow:
      - id: flights
        call: flights.cursor
        input: { query: { cursor: "{{ page.state.cursor }}" } }
        repeat:
          maxRounds: 10
          maxItems: 3
          state: { cursor: null }
          items: page.output.flights
          next: "{'cursor': page.output.next_cursor}"
          while: page.output.next_cursor != null
  - method: GET
    path: /slow
    timeout: 400ms
    flow:
      - id: flights
        call: flights.slow
        repeat:
          maxRounds: 100
          items: page.output.flights
          next: "{'cursor': page.output.next_cursor}"
`);
  });

  after(async () => {
    await gateway?.close();
    await rest?.close();
    await gql?.close();
  });

  test('a cursor-paginated list of 3 pages is read in 3 calls, every item in order', async () => {
    const before = rest.calls.length;
    const res = await fetch(`${gateway.url}/cursor`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      ((await res.json()) as { id: string }[]).map((f) => f.id),
      ['A', 'B', 'C', 'D', 'E'],
    );
    const calls = rest.calls.slice(before).map((c) => c.url);
    assert.deepEqual(calls, ['/cursor', '/cursor?cursor=p2', '/cursor?cursor=p3']);
  });

  test('a GraphQL connection is followed by pageInfo.endCursor until hasNextPage is false', async () => {
    const before = gql.calls;
    const res = await fetch(`${gateway.url}/graphql`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), ['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7']);
    assert.equal(gql.calls - before, 3);
  });

  test('an API paginated by its Link header is followed by the next link (its query, never its host)', async () => {
    const before = rest.calls.length;
    const res = await fetch(`${gateway.url}/linked`);
    assert.equal(res.status, 200);
    assert.deepEqual(
      await res.json(),
      Array.from({ length: 10 }, (_, i) => `L${i + 1}`),
    );
    assert.deepEqual(
      rest.calls.slice(before).map((c) => c.url),
      ['/linked?page=1&per_page=4', '/linked?page=2&per_page=4', '/linked?page=3&per_page=4'],
    );
  });

  test('with a total known after page 1, pages 2..N are all in flight at once', async () => {
    const before = rest.calls.length;
    rest.maxInFlight = 0;
    const res = await fetch(`${gateway.url}/paged`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { count: 10, ns: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], rounds: 5 });
    assert.equal(rest.calls.length - before, 5);
    // The backend held pages 2..5 until it saw four requests at once.
    assert.equal(rest.maxInFlight, 4);
  });

  test('a backend that returns the same cursor forever stops at maxRounds with CHORUS_LOOP_LIMIT', async () => {
    const before = rest.calls.length;
    const res = await fetch(`${gateway.url}/forever`);
    assert.equal(res.status, 500);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_LOOP_LIMIT');
    assert.equal(problem.step, 'flights');
    assert.equal(problem.rounds, 4);
    assert.match(String(problem.detail), /maxRounds \(4\)/);
    assert.equal(rest.calls.length - before, 4);
  });

  test('with onLimit: partial, the bound gives what was read, marked partial with a warning', async () => {
    const res = await fetch(`${gateway.url}/forever-partial`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'flights');
    const body = (await res.json()) as { flights: unknown[]; warnings: { code: string; step: string }[] };
    assert.equal(body.flights.length, 3);
    assert.equal(body.warnings[0]?.code, 'CHORUS_LOOP_LIMIT');
  });

  test('a total larger than maxRounds reads maxRounds pages and says so', async () => {
    const res = await fetch(`${gateway.url}/paged-capped`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'items');
    assert.deepEqual(((await res.json()) as { ns: number[] }).ns, [1, 2, 3, 4, 5, 6]);
  });

  test('maxItems bounds the items gathered: more is the bound being hit', async () => {
    const res = await fetch(`${gateway.url}/max-items`);
    assert.equal(res.status, 500);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_LOOP_LIMIT');
    assert.match(String(problem.detail), /maxItems \(3\)/);
  });

  test('the request deadline stops a loop between and during rounds', async () => {
    const before = rest.calls.length;
    const res = await fetch(`${gateway.url}/slow`);
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { code: string }).code, 'CHORUS_DEADLINE_EXCEEDED');
    // 150 ms per round in a 400 ms deadline: the loop made at most 3 calls, not 100.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(rest.calls.length - before <= 3, `${rest.calls.length - before} calls`);
  });
});

describe('repeating steps at load', () => {
  test('a bad loop expression is a load error at its file:line:col', async () => {
    const file = await writeConfig(`
services:
  s: { kind: http, url: "http://127.0.0.1:9", operations: { list: { path: /l } } }
endpoints:
  - method: GET
    path: /x
    flow:
      - id: pages
        call: s.list
        repeat:
          maxRounds: 3
          next: "page.output.next +"
`);
    const loaded = await loadConfig(file);
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    assert.equal(compiled.ok, false);
    const text = compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n');
    assert.match(text, /gateway\.yaml:12:\d+ .*expression "page\.output\.next \+"/);
  });

  test('a loop without maxRounds is refused at load', async () => {
    const file = await writeConfig(`
services:
  s: { kind: http, url: "http://127.0.0.1:9", operations: { list: { path: /l } } }
endpoints:
  - method: GET
    path: /x
    flow:
      - id: pages
        call: s.list
        repeat: { next: "{'a': 1}" }
`);
    const loaded = await loadConfig(file);
    assert.equal(loaded.ok, false);
    const text = loaded.ok ? '' : loaded.issues.map(formatIssue).join('\n');
    assert.match(text, /gateway\.yaml:10:\d+ .*maxRounds/);
  });

  test('page read by a step that does not repeat is refused at load', async () => {
    const file = await writeConfig(`
services:
  s: { kind: http, url: "http://127.0.0.1:9", operations: { list: { path: /l } } }
endpoints:
  - method: GET
    path: /x
    flow:
      - id: other
        call: s.list
        input: { query: { a: "{{ page.round }}" } }
`);
    const loaded = await loadConfig(file);
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    const text = compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n');
    assert.match(text, /gateway\.yaml:10:\d+ .*"page" is not available here/);
  });
});

describe('repeating steps, traced and cancelled', () => {
  test("each round is its own client span, and each backend call carries its round's traceparent", async () => {
    const backend = await startBackend((req, res) => {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '0');
      json(res, 200, { items: [n], next: n < 2 ? n + 1 : null });
    });
    const exporter = new InMemorySpanExporter();
    const file = await writeConfig(`
services:
  s: { kind: http, url: "${backend.url}", operations: { list: { path: /l } } }
endpoints:
  - method: GET
    path: /x
    flow:
      - id: pages
        call: s.list
        input: { query: { n: "{{ page.state.n }}" } }
        repeat:
          maxRounds: 5
          state: { n: 0 }
          items: page.output.items
          while: page.output.next != null
          next: "{'n': page.output.next}"
`);
    const loaded = await loadConfig(file);
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    assert.ok(compiled.ok);
    const gateway = await startGateway(compiled.plan, {
      logger: pino({ level: 'silent' }),
      port: 0,
      host: '127.0.0.1',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    try {
      const res = await fetch(`${gateway.url}/x`);
      assert.deepEqual(await res.json(), [0, 1, 2]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const rounds = exporter
        .getFinishedSpans()
        .filter((span) => span.kind === SpanKind.CLIENT && span.attributes['chorus.round'] !== undefined);
      assert.deepEqual(rounds.map((span) => span.attributes['chorus.round']).sort(), [0, 1, 2]);
      for (const span of rounds) {
        const call = backend.calls.find((c) =>
          String(c.headers.traceparent).includes(span.spanContext().spanId),
        );
        assert.ok(call, `a backend call with round ${span.attributes['chorus.round']}'s span as parent`);
      }
    } finally {
      await gateway.close();
      await backend.close();
    }
  });

  test('a client that goes away stops the loop: no round starts after it', async () => {
    const backend = await startBackend((_req, res) => json(res, 200, { items: [1], next: 'more' }, 100));
    const gateway = await startTestGateway(`
services:
  s: { kind: http, url: "${backend.url}", operations: { list: { path: /l } } }
endpoints:
  - method: GET
    path: /x
    flow:
      - id: pages
        call: s.list
        repeat: { maxRounds: 50, items: page.output.items, next: "{'c': page.output.next}" }
`);
    try {
      const controller = new AbortController();
      const pending = fetch(`${gateway.url}/x`, { signal: controller.signal }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 250));
      controller.abort();
      await pending;
      const seen = backend.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.ok(seen <= 4, `${seen} calls before the client left`);
      assert.equal(backend.calls.length, seen, 'no round after the client left');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('repeating and batching over gRPC (any connector kind)', () => {
  test('a repeating step calls a gRPC method once per round, and a batch step matches gRPC answers by key', async () => {
    const backend = await startGrpcBackend();
    const gateway = await startTestGateway(`
services:
  catalog:
    kind: grpc
    url: ${backend.address}
    proto: ${JSON.stringify(CATALOG_PROTO)}
    includeDirs: [${JSON.stringify(PROTO_DIR)}]
    service: catalog.v1.Catalog
endpoints:
  - method: GET
    path: /pages
    flow:
      - id: pages
        call: catalog.ListItems
        input: { message: { kind: BOOK, page_size: "{{ page.round + 1 }}" } }
        repeat:
          maxRounds: 5
          items: page.output.items
          rounds: "3"
    response:
      body: "{{ steps.pages.map(i, i.id) }}"
  - method: GET
    path: /items
    flow:
      - id: items
        forEach: "['a', 'missing', 'b']"
        call: catalog.GetItem
        input: { message: { id: "{{ batch.keys[0] }}" } }
        batch: { key: item, size: 1, results: "[batch.output]", resultKey: result.id }
        itemKey: item
        onError: skip
    response:
      body: "{{ steps.items.map(i, i == null ? 'none' : i.id) }}"
`);
    try {
      const pages = await fetch(`${gateway.url}/pages`);
      assert.deepEqual(await pages.json(), ['1', '1', '1']);
      assert.deepEqual(
        // Rounds 2 and 3 run at once: their order at the backend is not fixed.
        backend.calls
          .filter((c) => c.method === 'ListItems')
          .map((c) => c.request.page_size)
          .sort(),
        [1, 2, 3],
      );
      const items = await fetch(`${gateway.url}/items`);
      assert.equal(items.headers.get('chorus-partial'), 'items');
      const body = (await items.json()) as unknown;
      assert.deepEqual(body, ['a', 'none', 'b']);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});
