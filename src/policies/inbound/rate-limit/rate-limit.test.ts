/** Rate limits and quotas on the memory store, through a real gateway. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { json, startBackend, type TestBackend } from '../../../../test/support/backend.ts';
import { startTestGateway, writeConfig } from '../../../../test/support/gateway.ts';
import { formatIssue } from '../../../config/issues.ts';
import { compilePlan } from '../../../gateway.ts';
import { loadConfig } from '../../../modules.ts';
import type { Gateway } from '../../../server/server.ts';

async function issuesOf(text: string): Promise<string[]> {
  const loaded = await loadConfig(await writeConfig(text));
  if (!loaded.ok) return loaded.issues.map(formatIssue);
  const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
  if (compiled.ok) {
    await compiled.plan.close();
    return [];
  }
  return compiled.issues.map(formatIssue);
}

describe('rate limits and quotas (memory store)', () => {
  let backend: TestBackend;
  let gateway: Gateway;

  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    gateway = await startTestGateway(`
server: { trustedProxies: [10.0.0.0/8] }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - id: limited
    method: GET
    path: /limited
    policies: { rateLimit: { limit: 3, window: 1m, key: ip } }
    flow: [{ id: r, call: api.get }]
  - id: xstyle
    method: GET
    path: /xstyle
    policies: { rateLimit: { limit: 2, window: 10s, key: ip, headers: x-ratelimit } }
    flow: [{ id: r, call: api.get }]
  - id: byHeader
    method: GET
    path: /by-header
    policies: { rateLimit: { limit: 1, window: 1m, key: "{{ request.headers['x-tenant'] }}" } }
    flow: [{ id: r, call: api.get }]
  - id: quota
    method: GET
    path: /quota
    policies: { quota: { limit: 2, period: day, key: ip } }
    flow: [{ id: r, call: api.get }]
  - id: sharedA
    method: GET
    path: /shared/a
    policies: { rateLimit: { limit: 2, window: 1m, key: ip, name: shared } }
    flow: [{ id: r, call: api.get }]
  - id: sharedB
    method: GET
    path: /shared/b
    policies: { rateLimit: { limit: 2, window: 1m, key: ip, name: shared } }
    flow: [{ id: r, call: api.get }]
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  test('allows the limit, then answers 429 with Retry-After and RateLimit headers', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${gateway.url}/limited`);
      statuses.push(last.status);
      if (i === 0) {
        assert.equal(last.headers.get('ratelimit-policy'), '"limited";q=3;w=60');
        assert.match(last.headers.get('ratelimit') ?? '', /^"limited";r=2;t=\d+$/);
      }
      await last.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const res = await fetch(`${gateway.url}/limited`);
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.match(res.headers.get('ratelimit') ?? '', /^"limited";r=0;t=\d+$/);
    const problem = (await res.json()) as { code: string; retryAfter: number };
    assert.equal(problem.code, 'CHORUS_RATE_LIMITED');
    assert.equal(problem.retryAfter, retryAfter);
  });

  test('x-ratelimit headers when asked', async () => {
    const first = await fetch(`${gateway.url}/xstyle`);
    assert.equal(first.headers.get('x-ratelimit-limit'), '2');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '1');
    assert.equal(first.headers.get('ratelimit'), null);
    await fetch(`${gateway.url}/xstyle`);
    const refused = await fetch(`${gateway.url}/xstyle`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
  });

  test('a spoofed X-Forwarded-For from an untrusted peer gains nothing', async () => {
    // The limit is keyed by ip: each request claims another client address.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gateway.url}/shared/a`, {
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  });

  test('endpoints naming the same counter share it', async () => {
    const res = await fetch(`${gateway.url}/shared/b`);
    assert.equal(res.status, 429, 'sharedA used the two allowed requests');
  });

  test('an expression key counts each value apart', async () => {
    const a1 = await fetch(`${gateway.url}/by-header`, { headers: { 'x-tenant': 'acme' } });
    const b1 = await fetch(`${gateway.url}/by-header`, { headers: { 'x-tenant': 'globex' } });
    const a2 = await fetch(`${gateway.url}/by-header`, { headers: { 'x-tenant': 'acme' } });
    assert.deepEqual([a1.status, b1.status, a2.status], [200, 200, 429]);
  });

  test('a quota answers CHORUS_QUOTA_EXCEEDED until the period ends', async () => {
    await fetch(`${gateway.url}/quota`);
    await fetch(`${gateway.url}/quota`);
    const res = await fetch(`${gateway.url}/quota`);
    assert.equal(res.status, 429);
    const problem = (await res.json()) as { code: string };
    assert.equal(problem.code, 'CHORUS_QUOTA_EXCEEDED');
    const now = new Date();
    const endOfDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const expected = Math.ceil((endOfDay - Date.now()) / 1000);
    assert.ok(Math.abs(Number(res.headers.get('retry-after')) - expected) <= 2);
  });
});

describe('plan limits', () => {
  let backend: TestBackend;
  let gateway: Gateway;
  const goldKey = 'gold-key-0123456789abcdef';
  const freeKey = 'free-key-0123456789abcdef';
  const planlessKey = 'no-plan-key-0123456789abcdef';
  const hash = (key: string): string => `sha256:${createHash('sha256').update(key).digest('hex')}`;

  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    gateway = await startTestGateway(`
policies: { auth: apiKey }
plans:
  gold: { rateLimit: { limit: 5, window: 1m } }
  free: { rateLimit: { limit: 2, window: 1m }, quota: { limit: 3, period: month } }
consumers:
  - { id: alice, plan: gold, keys: ["${hash(goldKey)}"] }
  - { id: bob, plan: free, keys: ["${hash(freeKey)}"] }
  - { id: carol, keys: ["${hash(planlessKey)}"] }
services:
  api: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - { method: GET, path: /a, flow: [{ id: r, call: api.get }] }
  - { method: GET, path: /b, flow: [{ id: r, call: api.get }] }
  - method: GET
    path: /per-consumer
    policies: { rateLimit: { limit: 1, window: 1m } }
    flow: [{ id: r, call: api.get }]
`);
  });

  after(async () => {
    await gateway.close();
    await backend.close();
  });

  const get = async (path: string, key: string): Promise<Response> => {
    const res = await fetch(gateway.url + path, { headers: { 'x-api-key': key } });
    await res.arrayBuffer();
    return res;
  };

  test("a plan's rate limit counts the consumer across every endpoint", async () => {
    const statuses = [];
    for (const path of ['/a', '/b', '/a']) statuses.push((await get(path, freeKey)).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    const gold = await get('/b', goldKey);
    assert.equal(gold.status, 200, 'another consumer, another count');
    assert.equal(gold.headers.get('ratelimit-policy'), '"plan-gold";q=5;w=60');
    assert.match(gold.headers.get('ratelimit') ?? '', /^"plan-gold";r=4;t=\d+$/);
  });

  test("an endpoint's limit keyed by consumer counts each consumer apart, besides the plan's", async () => {
    const first = await get('/per-consumer', goldKey);
    assert.equal(first.status, 200);
    // Both limits are listed: the plan's (outer) and the endpoint's.
    assert.match(
      first.headers.get('ratelimit') ?? '',
      /^"getPerConsumer";r=0;t=\d+, "plan-gold";r=\d+;t=\d+$/,
    );
    assert.equal((await get('/per-consumer', goldKey)).status, 429);
    const carol = await get('/per-consumer', planlessKey);
    assert.equal(carol.status, 200, 'another consumer has its own count');
    assert.match(
      carol.headers.get('ratelimit') ?? '',
      /^"getPerConsumer";r=0;t=\d+$/,
      'no plan, no plan limit',
    );
    assert.equal((await fetch(`${gateway.url}/per-consumer`)).status, 401);
  });
});

describe('rate limit config', () => {
  test('store: redis without stores.redis is a load error', async () => {
    const issues = await issuesOf(`
endpoints:
  - method: GET
    path: /x
    policies: { rateLimit: { limit: 3, window: 1m, store: redis } }
`);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /store: redis needs a Redis server under stores\.redis/);
  });

  test('a key expression that reads the body is a load error', async () => {
    const issues = await issuesOf(`
endpoints:
  - method: POST
    path: /x
    policies: { rateLimit: { limit: 3, window: 1m, key: "{{ request.body.user }}" } }
`);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /cannot read request\.body/);
  });

  test('a window under a second and an unknown key kind are schema errors', async () => {
    const issues = await issuesOf(`
endpoints:
  - method: GET
    path: /x
    policies: { rateLimit: { limit: 3, window: 10ms, key: user } }
`);
    assert.equal(issues.length, 2);
    assert.ok(issues.some((line) => /a window is at least 1s/.test(line)));
    assert.ok(issues.some((line) => /expected consumer, apiKey, ip/.test(line)));
  });
});
