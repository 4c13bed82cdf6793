/**
 * The grpc connector end to end: a real gateway in front of a real @grpc/grpc-js server on
 * loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { waitFor } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';
import { CATALOG_PROTO, type GrpcBackend, PROTO_DIR, startGrpcBackend } from './support/grpc-backend.ts';

describe('flows over a gRPC service', () => {
  let backend: GrpcBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startGrpcBackend();
    gateway = await startTestGateway(`
services:
  catalog:
    kind: grpc
    url: ${backend.address}
    proto: ${JSON.stringify(CATALOG_PROTO)}
    includeDirs: [${JSON.stringify(PROTO_DIR)}]
    service: catalog.v1.Catalog
    metadata: { x-caller: chorus }
endpoints:
  - method: GET
    path: /items/{id}
    flow:
      - id: item
        call: catalog.GetItem
        input:
          message: { id: "{{ request.params.id }}" }
          metadata: { x-tenant: eu }
    response:
      body:
        id: "{{ steps.item.id }}"
        title: "{{ steps.item.title }}"
        views: "{{ steps.item.views }}"
        price: "{{ steps.item.price }}"
        labels: "{{ steps.item.labels }}"
  - method: GET
    path: /slow
    timeout: 5s
    flow:
      - id: item
        call: catalog.GetItem
        timeout: 200ms
        input: { message: { id: slow } }
  - method: GET
    path: /slow-deadline
    timeout: 300ms
    flow:
      - id: item
        call: catalog.GetItem
        input: { message: { id: slow } }
  - method: GET
    path: /books
    flow:
      - id: list
        call: catalog.ListItems
        input: { message: { kind: BOOK, page_size: 10 } }
    response:
      body: { titles: "{{ steps.list.items.map(i, i.title) }}" }
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test('an endpoint answers from a unary call whose message comes from the request', async () => {
    const res = await fetch(`${gateway.url}/items/42`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      id: '42',
      title: 'Dune',
      views: '12345678901234567',
      price: { currency: 'EUR', units: '1999' },
      labels: { shelf: 'a3' },
    });
    const metadata = backend.calls.at(-1)!.metadata;
    assert.equal(metadata['x-caller'], 'chorus');
    assert.equal(metadata['x-tenant'], 'eu');
    assert.equal(typeof metadata['x-request-id'], 'string');
  });

  test('a flow reads a list from a unary answer', async () => {
    const res = await fetch(`${gateway.url}/books`);
    assert.deepEqual(await res.json(), { titles: ['Dune'] });
  });

  test('a gRPC NOT_FOUND answers 502 problem+json naming the service and the gRPC status', async () => {
    const res = await fetch(`${gateway.url}/items/missing`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_PROTOCOL');
    assert.equal(problem.service, 'catalog');
    assert.equal(problem.operation, 'GetItem');
    assert.equal(problem.step, 'item');
    assert.equal(problem.grpcCode, 5);
    assert.equal(problem.grpcStatus, 'NOT_FOUND');
    assert.equal(problem.grpcMessage, 'item missing does not exist');
  });

  test('a step deadline the server misses answers 504 CHORUS_UPSTREAM_TIMEOUT with DEADLINE_EXCEEDED, and the gateway keeps serving', async () => {
    const cancelledBefore = backend.cancelled;
    const started = performance.now();
    const res = await fetch(`${gateway.url}/slow`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_TIMEOUT');
    assert.equal(problem.service, 'catalog');
    assert.equal(problem.grpcStatus, 'DEADLINE_EXCEEDED');
    assert.equal(problem.detail, 'service "catalog" operation "GetItem" did not answer within 200 ms');
    assert.ok(elapsed >= 180 && elapsed < 1_000, `answered after ${elapsed.toFixed(0)} ms`);
    await waitFor(() => backend.cancelled > cancelledBefore);

    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
    const again = await fetch(`${gateway.url}/items/7`);
    assert.equal(again.status, 200);
    await again.arrayBuffer();
  });

  test('the request deadline bounds the call: 504 CHORUS_DEADLINE_EXCEEDED', async () => {
    const res = await fetch(`${gateway.url}/slow-deadline`);
    assert.equal(res.status, 504);
    const problem = (await res.json()) as Record<string, unknown>;
    // The request's own deadline (which cancels the call) or the call's deadline: whichever fires first.
    assert.equal(problem.code, 'CHORUS_DEADLINE_EXCEEDED');
  });
});
