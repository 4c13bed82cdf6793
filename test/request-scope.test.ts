/**
 * What expressions see of the request beyond its parts (request.requestId, request.clientIp), and the
 * hints a common mistake gets at load, at its file:line:col.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { startTestGateway, writeConfig } from './support/gateway.ts';

test('request.requestId is the x-request-id sent back, request.clientIp the caller address', async () => {
  const gateway = await startTestGateway(`
endpoints:
  - method: GET
    path: /me
    response:
      body: { id: "{{ request.requestId }}", ip: "{{ request.clientIp }}" }
`);
  try {
    const res = await fetch(`${gateway.url}/me`, { headers: { 'x-request-id': 'req-42' } });
    assert.deepEqual(await res.json(), { id: 'req-42', ip: '127.0.0.1' });
    assert.equal(res.headers.get('x-request-id'), 'req-42');
  } finally {
    await gateway.close();
  }
});

test("a .?['key'] mistake is a load error at its file:line:col that shows the [?'key'] form", async () => {
  const file = await writeConfig(`
endpoints:
  - method: GET
    path: /x
    flow:
      - id: a
        map: { v: 1 }
    response:
      body: { dir: "{{ steps.a.?['@dir'].orValue('') }}" }
`);
  const loaded = await loadConfig(file);
  assert.ok(loaded.ok);
  const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
  const text = compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n');
  assert.match(text, /gateway\.yaml:9:\d+ .*steps\.a\[\?'@dir'\]\.orValue\(''\)/);
});
