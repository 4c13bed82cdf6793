/**
 * Upstream resilience end to end: a real gateway in front of real loopback backends that fail on
 * command — retries and their budget, the circuit breaker, the bulkhead, load balancing with
 * outlier ejection, backend credentials (OAuth2, static) and mTLS.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startTestGateway } from './support/gateway.ts';
import { makeTestCertificates } from './support/tls-certs.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.allSettled(closers.map((close) => close()));
});

async function backend(...args: Parameters<typeof startBackend>): Promise<TestBackend> {
  const started = await startBackend(...args);
  closers.push(() => started.close());
  return started;
}

async function gateway(yaml: string): Promise<Gateway> {
  const started = await startTestGateway(yaml);
  closers.push(() => started.close());
  return started;
}

/** A decoded answer: a backend's echo or a problem document. */
interface Body {
  code?: string;
  service?: string;
  host?: number;
  auth?: string;
  [field: string]: unknown;
}

async function get(gw: Gateway, path: string, init?: RequestInit): Promise<{ status: number; body: Body }> {
  const response = await fetch(gw.url + path, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Body) };
}

/** Endpoints GET /call → service.op, one per line. */
function endpoints(...routes: [string, string, string?][]): string {
  return routes
    .map(
      ([route, call, method]) => `
  - method: ${method ?? 'GET'}
    path: ${route}
    flow:
      - { id: r, call: ${call} }
    response:
      body: "{{ steps.r }}"`,
    )
    .join('');
}

describe('retries and the retry budget', () => {
  test('a backend failing every call gets at most 1.2× the requests: the budget holds', async () => {
    const failing = await backend((_req, res) => json(res, 503, { down: true }));
    const gw = await gateway(`
services:
  flaky:
    kind: http
    url: ${failing.url}
    retry: { attempts: 3, backoff: 1ms, budget: { ratio: 0.2, minRetries: 10, window: 10s } }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'flaky.get'])}
`);
    const requests = 100;
    for (let i = 0; i < requests; i++) {
      const answer = await get(gw, '/x');
      assert.equal(answer.status, 502);
    }
    // Without the budget, 3 attempts each would make 300 calls.
    assert.ok(failing.calls.length <= 1.2 * requests, `${failing.calls.length} attempts`);
    assert.ok(failing.calls.length > requests, 'some calls were retried');
  });

  test('a retried GET succeeds once the backend answers again', async () => {
    let failures = 2;
    const flaky = await backend((_req, res) =>
      failures-- > 0 ? json(res, 503, {}) : json(res, 200, { ok: 1 }),
    );
    const gw = await gateway(`
services:
  flaky:
    kind: http
    url: ${flaky.url}
    retry: { attempts: 3, backoff: 1ms }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'flaky.get'])}
`);
    const answer = await get(gw, '/x');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { ok: 1 });
    assert.equal(flaky.calls.length, 3);
  });

  test('a POST is never retried unless declared idempotent', async () => {
    const failing = await backend((_req, res) => json(res, 503, {}));
    const gw = await gateway(`
services:
  orders:
    kind: http
    url: ${failing.url}
    retry: { attempts: 3, backoff: 1ms }
    operations:
      create: { method: POST, path: /create }
      upsert: { method: POST, path: /upsert, idempotent: true }
endpoints:${endpoints(['/create', 'orders.create', 'POST'], ['/upsert', 'orders.upsert', 'POST'])}
`);
    assert.equal((await get(gw, '/create', { method: 'POST' })).status, 502);
    assert.equal(failing.calls.filter((call) => call.url === '/create').length, 1);
    assert.equal((await get(gw, '/upsert', { method: 'POST' })).status, 502);
    assert.equal(failing.calls.filter((call) => call.url === '/upsert').length, 3);
  });

  test('a 4xx answer is not retried', async () => {
    const missing = await backend((_req, res) => json(res, 404, {}));
    const gw = await gateway(`
services:
  items:
    kind: http
    url: ${missing.url}
    retry: { attempts: 3, backoff: 1ms }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'items.get'])}
`);
    assert.equal((await get(gw, '/x')).status, 502);
    assert.equal(missing.calls.length, 1);
  });
});

describe('circuit breaker', () => {
  test('opens on a failing backend, answers 503 without calling it, and closes after the cooldown once it recovers', async () => {
    let down = true;
    const svc = await backend((_req, res) => (down ? json(res, 503, {}) : json(res, 200, { up: true })));
    const gw = await gateway(`
services:
  fragile:
    kind: http
    url: ${svc.url}
    retry: { attempts: 3, backoff: 1ms }
    circuitBreaker: { consecutiveFailures: 5, failureRate: 50, minimumCalls: 10, cooldown: 1500ms }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'fragile.get'])}
`);
    // Fewer requests than fit in the cooldown even on a loaded machine: no probe is due yet.
    const requests = 30;
    const codes: string[] = [];
    for (let i = 0; i < requests; i++) codes.push(String((await get(gw, '/x')).body.code));
    // The breaker opened after 5 failed attempts: the backend saw those and nothing more.
    assert.ok(svc.calls.length <= 1.2 * requests);
    assert.equal(svc.calls.length, 5);
    assert.equal(codes.at(-1), 'CHORUS_CIRCUIT_OPEN');
    const open = await get(gw, '/x');
    assert.equal(open.status, 503);
    assert.equal(open.body.code, 'CHORUS_CIRCUIT_OPEN');
    assert.equal(open.body.service, 'fragile');
    const raw = await fetch(`${gw.url}/x`);
    await raw.arrayBuffer();
    assert.ok(Number(raw.headers.get('retry-after')) >= 1, 'an open breaker says when to retry');
    assert.equal(svc.calls.length, 5);

    down = false;
    await new Promise((resolve) => setTimeout(resolve, 1550));
    const recovered = await get(gw, '/x');
    assert.equal(recovered.status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await get(gw, '/x')).status, 200);
  });

  test('the admin route /admin/upstreams shows each breaker state and bulkhead use', async () => {
    const svc = await backend((_req, res) => json(res, 503, {}));
    const gw = await gateway(`
admin: { credential: upstream-status-credential-0123 }
services:
  fragile:
    kind: http
    url: ${svc.url}
    circuitBreaker: { consecutiveFailures: 2, cooldown: 1m }
    bulkhead: { maxConcurrent: 4 }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'fragile.get'])}
`);
    const status = async (): Promise<{ status: number; body: Body }> =>
      get(gw, '/admin/upstreams', { headers: { authorization: 'Bearer upstream-status-credential-0123' } });
    const closed = await status();
    assert.equal(closed.status, 200);
    const services = (body: Body) => body.services as { service: string; breaker?: { state: string } }[];
    assert.equal(services(closed.body)[0]?.breaker?.state, 'closed');
    for (let i = 0; i < 2; i++) await get(gw, '/x');
    const opened = await status();
    assert.equal(services(opened.body)[0]?.service, 'fragile');
    assert.equal(services(opened.body)[0]?.breaker?.state, 'open');
    assert.deepEqual((opened.body.services as { bulkhead?: unknown }[])[0]?.bulkhead, {
      active: 0,
      queued: 0,
      maxConcurrent: 4,
    });
    assert.equal((await get(gw, '/admin/upstreams')).status, 401);
  });

  test('a step fallback answers while the breaker is open', async () => {
    const svc = await backend((_req, res) => json(res, 503, {}));
    const gw = await gateway(`
services:
  fragile:
    kind: http
    url: ${svc.url}
    circuitBreaker: { consecutiveFailures: 2, cooldown: 10s }
    operations:
      get: { path: /x }
endpoints:
  - method: GET
    path: /x
    flow:
      - { id: r, call: fragile.get, onError: { fallback: "{'code': error.code}" } }
    response:
      body: "{{ steps.r }}"
`);
    await get(gw, '/x');
    await get(gw, '/x');
    const answer = await get(gw, '/x');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.code, 'CHORUS_CIRCUIT_OPEN');
    assert.equal(svc.calls.length, 2);
  });
});

describe('bulkhead', () => {
  test('caps concurrent calls and refuses the overflow at once with 503', async () => {
    const slow = await backend((_req, res) => json(res, 200, { ok: true }, 200));
    const gw = await gateway(`
services:
  slow:
    kind: http
    url: ${slow.url}
    bulkhead: { maxConcurrent: 2, maxQueue: 1 }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'slow.get'])}
`);
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(gw, '/x')));
    const ok = answers.filter((answer) => answer.status === 200).length;
    const full = answers.filter((answer) => answer.body?.code === 'CHORUS_BULKHEAD_FULL');
    assert.equal(ok, 3);
    assert.equal(full.length, 3);
    assert.equal(full[0]!.status, 503);
    assert.ok(slow.maxInFlight <= 2);
  });
});

describe('load balancing', () => {
  test('with 2 of 3 hosts down, requests succeed through the healthy host once the others are ejected', async () => {
    const hosts = await Promise.all(
      [0, 1, 2].map((n) => startBackend((_req, res) => json(res, 200, { host: n }))),
    );
    closers.push(() => hosts[2]!.close());
    await hosts[0]!.close();
    await hosts[1]!.close();
    const gw = await gateway(`
services:
  spread:
    kind: http
    urls: [${hosts.map((host) => host.url).join(', ')}]
    loadBalancing: { strategy: round-robin, ejectAfter: 2, ejectionTime: 30s }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'spread.get'])}
`);
    // Warm-up: each dead host fails ejectAfter times before it is ejected.
    for (let i = 0; i < 6; i++) await get(gw, '/x');
    const before = hosts[2]!.calls.length;
    for (let i = 0; i < 20; i++) {
      const answer = await get(gw, '/x');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { host: 2 });
    }
    assert.equal(hosts[2]!.calls.length - before, 20);
  });

  test('a retry goes to another host, so a dead host costs no failed request', async () => {
    const hosts = await Promise.all(
      [0, 1].map((n) => startBackend((_req, res) => json(res, 200, { host: n }))),
    );
    closers.push(() => hosts[1]!.close());
    await hosts[0]!.close();
    const gw = await gateway(`
services:
  spread:
    kind: http
    urls: [${hosts.map((host) => host.url).join(', ')}]
    retry: { attempts: 2, backoff: 1ms }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'spread.get'])}
`);
    for (let i = 0; i < 8; i++) assert.deepEqual((await get(gw, '/x')).body, { host: 1 });
  });

  test('calls are spread round-robin over healthy hosts', async () => {
    const hosts = await Promise.all(
      [0, 1, 2].map((n) => backend((_req, res) => json(res, 200, { host: n }))),
    );
    const gw = await gateway(`
services:
  spread:
    kind: http
    urls: [${hosts.map((host) => host.url).join(', ')}]
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'spread.get'])}
`);
    for (let i = 0; i < 9; i++) assert.equal((await get(gw, '/x')).status, 200);
    assert.deepEqual(
      hosts.map((host) => host.calls.length),
      [3, 3, 3],
    );
  });
});

/** Calls /x until the hosts of the last 10 answers satisfy the check, for at most 5 s. */
async function eventually(gw: Gateway, check: (streak: number[]) => boolean): Promise<boolean> {
  const streak: number[] = [];
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    streak.push(Number((await get(gw, '/x')).body.host));
    if (streak.length > 10) streak.shift();
    if (check(streak)) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

describe('active health checks', () => {
  test('a host failing its health check gets no calls until it passes again', async () => {
    let sick = true;
    const hosts = await Promise.all(
      [0, 1].map((n) =>
        backend((req, res) => {
          if (req.url === '/health') return json(res, n === 1 && sick ? 503 : 200, {});
          json(res, 200, { host: n });
        }),
      ),
    );
    const gw = await gateway(`
services:
  checked:
    kind: http
    urls: [${hosts.map((host) => host.url).join(', ')}]
    loadBalancing: { healthCheck: { path: /health, interval: 50ms, timeout: 1s } }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'checked.get'])}
`);
    // Once host 1's check fails, every call goes to host 0 (round-robin would alternate).
    assert.ok(await eventually(gw, (streak) => streak.length >= 10 && streak.every((host) => host === 0)));
    sick = false;
    // Once its check passes again, host 1 gets calls again.
    assert.ok(await eventually(gw, (streak) => streak.includes(1)));
  });
});

describe('backend credentials', () => {
  test('100 concurrent first requests make 1 token request, and a new token is fetched after expiry', async () => {
    let issued = 0;
    const tokens = await backend((req, res, body) => {
      issued++;
      const form = new URLSearchParams(body);
      const basic = Buffer.from('svc:s3cret').toString('base64');
      if (req.headers.authorization !== `Basic ${basic}` || form.get('grant_type') !== 'client_credentials') {
        return json(res, 401, { error: 'invalid_client' });
      }
      json(res, 200, { access_token: `t${issued}`, token_type: 'Bearer', expires_in: 3 }, 50);
    });
    const api = await backend((req, res) => json(res, 200, { auth: req.headers.authorization }));
    process.env.CHORUS_TEST_OAUTH_SECRET = 's3cret';
    const gw = await gateway(`
services:
  secured:
    kind: http
    url: ${api.url}
    auth:
      type: oauth2
      tokenUrl: ${tokens.url}/token
      clientId: svc
      clientSecret: \${env.CHORUS_TEST_OAUTH_SECRET}
      refreshBefore: 0s
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'secured.get'])}
`);
    const answers = await Promise.all(Array.from({ length: 100 }, () => get(gw, '/x')));
    assert.ok(answers.every((answer) => answer.status === 200 && answer.body.auth === 'Bearer t1'));
    assert.equal(issued, 1);

    await new Promise((resolve) => setTimeout(resolve, 3100));
    const later = await get(gw, '/x');
    assert.equal(later.body.auth, 'Bearer t2');
    assert.equal(issued, 2);
  });

  test('a token endpoint that refuses the client answers 502 CHORUS_UPSTREAM_AUTH without reaching the backend', async () => {
    const tokens = await backend((_req, res) => json(res, 401, { error: 'invalid_client' }));
    const api = await backend((_req, res) => json(res, 200, {}));
    const gw = await gateway(`
services:
  secured:
    kind: http
    url: ${api.url}
    auth: { type: oauth2, tokenUrl: ${tokens.url}/token, clientId: svc, clientSecret: wrong-secret }
    operations:
      get: { path: /x }
endpoints:${endpoints(['/x', 'secured.get'])}
`);
    const answer = await get(gw, '/x');
    assert.equal(answer.status, 502);
    assert.equal(answer.body.code, 'CHORUS_UPSTREAM_AUTH');
    assert.ok(!JSON.stringify(answer.body).includes('wrong-secret'));
    assert.equal(api.calls.length, 0);
  });

  test('basic, API key and bearer-from-env credentials reach the backend', async () => {
    const api = await backend((req, res) =>
      json(res, 200, { auth: req.headers.authorization ?? null, key: req.headers['x-api-key'] ?? null }),
    );
    process.env.CHORUS_TEST_BEARER = 'env-token';
    const gw = await gateway(`
services:
  basic:
    kind: http
    url: ${api.url}
    auth: { type: basic, username: user, password: pw }
    operations: { get: { path: /x } }
  keyed:
    kind: http
    url: ${api.url}
    auth: { type: apiKey, key: k-123 }
    operations: { get: { path: /x } }
  bearer:
    kind: http
    url: ${api.url}
    auth: { type: bearer, tokenEnv: CHORUS_TEST_BEARER }
    operations: { get: { path: /x } }
endpoints:${endpoints(['/basic', 'basic.get'], ['/keyed', 'keyed.get'], ['/bearer', 'bearer.get'])}
`);
    assert.deepEqual((await get(gw, '/basic')).body, {
      auth: `Basic ${Buffer.from('user:pw').toString('base64')}`,
      key: null,
    });
    assert.deepEqual((await get(gw, '/keyed')).body, { auth: null, key: 'k-123' });
    assert.deepEqual((await get(gw, '/bearer')).body, { auth: 'Bearer env-token', key: null });
  });
});

describe('mTLS', () => {
  test('a client certificate from the service tls settings (http and graphql) is accepted by a backend that requires one', async () => {
    const certs = makeTestCertificates();
    const server = createHttpsServer(certs.mutualServer, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const client = peer.subject?.CN ?? null;
      // GraphQL documents are POSTed: answer them the GraphQL way.
      json(res, 200, req.method === 'POST' ? { data: { client } } : { client });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gw = await gateway(`
services:
  mutual:
    kind: http
    url: ${url}
    tls: { cert: ${certs.clientCertFile}, key: ${certs.clientKeyFile}, ca: ${certs.caFile} }
    operations: { get: { path: /x } }
  anonymous:
    kind: http
    url: ${url}
    tls: { ca: ${certs.caFile} }
    operations: { get: { path: /x } }
  graph:
    kind: graphql
    url: ${url}/graphql
    introspect: false
    tls: { cert: ${certs.clientCertFile}, key: ${certs.clientKeyFile}, ca: ${certs.caFile} }
    operations: { who: { query: "{ client }" } }
endpoints:${endpoints(['/mutual', 'mutual.get'], ['/anonymous', 'anonymous.get'], ['/graph', 'graph.who'])}
`);
    const answer = await get(gw, '/mutual');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { client: 'client' });
    const refused = await get(gw, '/anonymous');
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, 'CHORUS_UPSTREAM_TRANSPORT');
    assert.deepEqual((await get(gw, '/graph')).body, { client: 'client' });
  });
});
