/**
 * The graphql connector end to end: a real gateway in front of a real GraphQL server (the
 * `graphql` reference implementation on node:http) on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../src/server/server.ts';
import { startTestGateway } from './support/gateway.ts';
import { type GraphqlBackend, startGraphqlBackend } from './support/graphql-backend.ts';

describe('flows over a GraphQL service', () => {
  let backend: GraphqlBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startGraphqlBackend();
    gateway = await startTestGateway(`
services:
  anime:
    kind: graphql
    url: ${backend.url}
    operations:
      getShow:
        query: "query Show($id: ID!) { show(id: $id) { id title year } }"
      pair:
        query: "query Pair($a: ID!, $b: ID!) { a: show(id: $a) { title } b: show(id: $b) { title } }"
        errors: partial
      rate:
        query: "mutation Rate($id: ID!, $score: Int!) { rate(id: $id, rating: { score: $score }) { score } }"
endpoints:
  - method: GET
    path: /shows/{id}
    flow:
      - id: show
        call: anime.getShow
        input: { variables: { id: "{{ request.params.id }}" } }
    response:
      body: { title: "{{ steps.show.show.title }}", year: "{{ steps.show.show.year }}" }
  - method: GET
    path: /pairs/{a}/{b}
    flow:
      - id: pair
        call: anime.pair
        input: { variables: { a: "{{ request.params.a }}", b: "{{ request.params.b }}" } }
    response:
      body:
        a: "{{ steps.pair.data.a }}"
        b: "{{ steps.pair.data.b }}"
        problems: "{{ steps.pair.errors.map(e, e.message) }}"
  - method: POST
    path: /shows/{id}/ratings
    input:
      body: { type: object, properties: { score: { type: integer } }, required: [score] }
    flow:
      - id: rated
        call: anime.rate
        input: { variables: { id: "{{ request.params.id }}", score: "{{ request.body.score }}" } }
    response:
      status: 201
      body: "{{ steps.rated.rate }}"
  - method: GET
    path: /guarded/{id}
    flow:
      - id: show
        call: anime.getShow
        input: { variables: { id: "{{ request.params.id }}" } }
        onError: { fallback: '{"title": "unknown", "data": error.body.data}' }
    response:
      body: "{{ steps.show }}"
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test('an endpoint answers from a GraphQL query whose variables come from the request', async () => {
    const res = await fetch(`${gateway.url}/shows/1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { title: 'Cowboy Bebop', year: 1998 });
    const received = backend.requests.at(-1)!;
    assert.deepEqual(received.body.variables, { id: '1' });
    assert.equal(typeof received.headers['x-request-id'], 'string');
  });

  test('a mutation takes its variables from the request body', async () => {
    const res = await fetch(`${gateway.url}/shows/2/ratings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ score: 8 }),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { score: 8 });
  });

  test('GraphQL errors answer 502 problem+json naming the service and the errors, and the gateway keeps serving', async () => {
    const res = await fetch(`${gateway.url}/shows/404`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'CHORUS_UPSTREAM_PROTOCOL');
    assert.equal(problem.service, 'anime');
    assert.equal(problem.operation, 'getShow');
    assert.equal(problem.step, 'show');
    assert.deepEqual(problem.graphqlErrors, ['show 404 not found']);
    assert.equal(
      problem.detail,
      'service "anime" operation "getShow" answered GraphQL errors: show 404 not found',
    );
    assert.equal(problem.data, undefined, 'the partial data is not sent to the client');

    const again = await fetch(`${gateway.url}/shows/2`);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { title: 'The Wire', year: 2002 });
  });

  test('with errors: partial a flow reads the data and the errors side by side', async () => {
    const res = await fetch(`${gateway.url}/pairs/1/404`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      a: { title: 'Cowboy Bebop' },
      b: null,
      problems: ['show 404 not found'],
    });
  });

  test('an onError fallback can read the data that came with the errors', async () => {
    const res = await fetch(`${gateway.url}/guarded/404`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('chorus-partial'), 'show');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.title, 'unknown');
    assert.deepEqual(body.data, { show: null });
  });
});
