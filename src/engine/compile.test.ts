/**
 * Load-time checks: mistakes in flows are reported with file:line:col before anything serves.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { formatIssue } from '../config/issues.ts';
import { compilePlan } from '../gateway.ts';
import { loadConfigText } from '../modules.ts';

const logger = pino({ level: 'silent' });

async function problems(text: string): Promise<string[]> {
  const loaded = loadConfigText(text, 'gateway.yaml', process.cwd(), {});
  if (!loaded.ok) return loaded.issues.map(formatIssue);
  const compiled = await compilePlan(loaded.loaded, logger);
  if (compiled.ok) {
    await compiled.plan.close();
    return [];
  }
  return compiled.issues.map(formatIssue);
}

const SERVICES = `services:
  lookup:
    kind: http
    url: http://127.0.0.1:9
    operations:
      locate: { path: "/locate/{id}" }
      list: { path: /list }
`;

describe('compiling flows', () => {
  test('a correct config compiles without problems', async () => {
    assert.deepEqual(
      await problems(`${SERVICES}endpoints:
  - method: GET
    path: /items/{id}
    flow:
      - id: where
        call: lookup.locate
        input: { params: { id: "{{ request.params.id }}" } }
`),
      [],
    );
  });

  test('an unknown service and an unknown operation are reported at the call', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - id: one
        call: nowhere.locate
      - id: two
        call: lookup.find
`);
    assert.deepEqual(found, [
      'gateway.yaml:13:15 unknown service "nowhere" (services: lookup)',
      'gateway.yaml:15:15 service "lookup" has no operation "find" (operations: locate, list)',
    ]);
  });

  test('an unknown step reference names the step and suggests the known ones', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - { id: first, call: lookup.list }
      - id: second
        map: "{{ steps.frist.items }}"
`);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^gateway\.yaml:14:\d+ unknown step "frist" \(steps: first, second\)/);
  });

  test('a dependency cycle is named', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, map: "{{ steps.c }}" }
      - { id: b, map: "{{ steps.a }}" }
      - { id: c, map: "{{ steps.b }}" }
`);
    assert.deepEqual(found, ['gateway.yaml:12:9 dependency cycle: a → c → b → a']);
  });

  test('an expression syntax error points at the column inside the string', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - id: a
        map: { total: "{{ 1 + }}" }
`);
    assert.equal(found.length, 1);
    // "{{ 1 + }}" starts at column 24 (the quote); the error is at the end of "1 +".
    assert.match(found[0]!, /^gateway\.yaml:13:(2[8-9]|3\d) expression "1 \+": /);
  });

  test('duplicate routes are reported, even with differently named parameters', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - { method: GET, path: "/items/{id}", flow: [] }
  - { method: GET, path: "/items/{itemId}", flow: [] }
`);
    assert.deepEqual(found, ['gateway.yaml:10:26 duplicate route GET /items/{itemId} (also endpoints[0])']);
  });

  test('path parameters declared but not in the path, or read but not in the path, are reported', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /items/{id}
    input:
      params:
        itemId: { type: string }
    flow:
      - { id: a, map: "{{ request.params.sku }}" }
`);
    assert.deepEqual(found.sort(), [
      'gateway.yaml:13:9 path parameter "itemId" is declared but not in the path /items/{id}',
      'gateway.yaml:9:5 request.params.sku is read but the path /items/{id} has no {sku}',
    ]);
  });

  test('a call that does not give a path parameter the operation needs is reported', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, call: lookup.locate, input: { params: {} } }
`);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /lookup\.locate needs input\.params\.id/);
  });

  test('item is only available inside forEach steps and error only in fallbacks', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, map: "{{ item }}" }
      - { id: b, call: lookup.list, onError: { fallback: "error.status" } }
`);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /"item" is not available here/);
  });

  test('expressions read environment variables by name only', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, map: "{{ env }}" }
`);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /read environment variables by name \(env\.NAME\)/);
  });

  test('the last of several responses must not have a when, and the others must', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow: []
    response:
      - { status: 404 }
      - { when: "true", status: 200 }
`);
    assert.equal(found.length, 2);
    assert.match(found.join('\n'), /only the last response may omit when/);
    assert.match(found.join('\n'), /the last response must have no when/);
  });

  test('an unknown function is a load error', async () => {
    const found = await problems(`${SERVICES}endpoints:
  - method: GET
    path: /a
    flow:
      - { id: a, map: "{{ nosuch(1) }}" }
`);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /nosuch/);
  });
});
