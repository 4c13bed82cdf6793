/**
 * Inbound security policies end to end, through real HTTP: API keys and consumers, JWT (a real
 * JWKS server on loopback counting its fetches), CORS preflights and headers, IP lists, and the
 * header, body, JSON-depth and input-validation limits.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { metricsRegistry } from '../src/observability/metrics.ts';
import type { Gateway } from '../src/server/server.ts';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { startGatewayFromFile, startTestGateway, writeConfig } from './support/gateway.ts';

const ACME_KEY = 'acme-live-key-0123456789abcdef';
const BOB_KEY = 'bob-live-key-0123456789abcdef';
const ENV_KEY = 'env-provided-key-abcdef0123456789';
const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'chorus-tests';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  return (await res.json()) as Record<string, unknown>;
}

/** Starts a gateway that must fail to load; returns the load error text. */
async function loadErrorOf(yaml: string): Promise<string> {
  try {
    const gateway = await startTestGateway(yaml);
    await gateway.close();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('the config loaded, but it should not have');
}

describe('inbound security policies', () => {
  let jwks: TestBackend;
  let gateway: Gateway;
  let k1: KeyPair;
  let k2: KeyPair;
  let publicJwks: JWK[];
  let k2Jwk: JWK;
  const jwksFetches = (): number => jwks.calls.filter((call) => call.url === '/jwks').length;

  const sign = (
    claims: JWTPayload,
    options: {
      key?: KeyPair;
      kid?: string;
      issuer?: string;
      audience?: string;
      expiresIn?: string | number;
    } = {},
  ): Promise<string> => {
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt();
    jwt = jwt.setExpirationTime(options.expiresIn ?? '5m');
    return jwt.sign((options.key ?? k1).privateKey);
  };

  before(async () => {
    process.env.CHORUS_TEST_ENV_KEY = ENV_KEY;
    k1 = await generateKeyPair('RS256', { extractable: true });
    k2 = await generateKeyPair('RS256', { extractable: true });
    publicJwks = [{ ...(await exportJWK(k1.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }];
    k2Jwk = { ...(await exportJWK(k2.publicKey)), kid: 'k2', alg: 'RS256', use: 'sig' };
    jwks = await startBackend((req, res) => {
      if (req.url === '/jwks') json(res, 200, { keys: publicJwks });
      else json(res, 404, {});
    });
    gateway = await startTestGateway(`
server:
  maxHeaderSize: 4kb
  bodyLimit: 1kb
  jsonDepthLimit: 5
  trustedProxies: [127.0.0.1]
auth:
  apiKey: { header: x-api-key, query: api_key }
  jwt:
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
    jwksUrl: ${jwks.url}/jwks
    algorithms: [RS256]
    clockSkew: 5s
    jwks: { refreshInterval: 1500ms, cacheMaxAge: 10m, timeout: 2s }
    claims: { plan: plan }
    plan: free
plans:
  free: { scopes: [catalog:read] }
  gold: { scopes: [catalog:read, catalog:write] }
consumers:
  - id: acme
    plan: gold
    scopes: [reports]
    keys:
      - ${sha256(ACME_KEY)}
      - { id: acme-env, key: "\${env.CHORUS_TEST_ENV_KEY}" }
  - id: bob
    plan: free
    keys: [{ id: bob-1, hash: "${sha256(BOB_KEY)}" }]
    subjects: [user-bob]
policies:
  auth: [apiKey, jwt]
endpoints:
  - method: GET
    path: /whoami
    flow: [{ id: who, map: "{{ request.consumer }}" }]
  - method: POST
    path: /catalog
    policies: { auth: { scopes: [catalog:write] } }
    flow: [{ id: ok, map: { written: true } }]
  - method: GET
    path: /admin
    policies: { auth: { methods: [jwt], claims: { role: [admin, owner] } } }
    flow: [{ id: ok, map: { admin: true } }]
  - method: GET
    path: /public
    policies: { auth: false }
    flow: [{ id: ok, map: { public: true } }]
  - method: GET
    path: /maybe
    policies: { auth: { anonymous: true } }
    flow: [{ id: who, map: { consumer: "{{ has(request.consumer) ? request.consumer.id : 'anonymous' }}" } }]
  - method: GET
    path: /cors
    policies:
      cors:
        origins: [https://app.example.com, "https://*.example.org"]
        credentials: true
        allowHeaders: [content-type, x-api-key]
    flow: [{ id: ok, map: { cors: true } }]
  - method: POST
    path: /cors
    policies:
      auth: false
      cors: { origins: ["*"] }
    flow: [{ id: ok, map: { posted: true } }]
  - method: GET
    path: /office
    policies: { auth: false, ipFilter: { allow: [10.0.0.0/8, "::1"] } }
    flow: [{ id: ok, map: { office: true } }]
  - method: GET
    path: /not-loopback
    policies: { auth: false, ipFilter: { deny: [127.0.0.0/8] } }
    flow: [{ id: ok, map: { reached: true } }]
  - method: POST
    path: /orders
    policies: { auth: false }
    input:
      body:
        type: object
        required: [sku, quantity]
        properties:
          sku: { type: string }
          quantity: { type: integer, minimum: 1 }
          meta: { type: object }
    flow: [{ id: ok, map: "{{ request.body }}" }]
`);
  });

  after(async () => {
    delete process.env.CHORUS_TEST_ENV_KEY;
    await gateway?.close();
    await jwks?.close();
  });

  const get = (route: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(gateway.url + route, { headers });

  describe('API keys and consumers', () => {
    test('a valid key names the consumer, its plan, its key id and its own plus its plan scopes', async () => {
      const res = await get('/whoami', { 'x-api-key': ACME_KEY });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(body, {
        id: 'acme',
        plan: 'gold',
        scopes: ['reports', 'catalog:read', 'catalog:write'],
        via: 'apiKey',
        keyId: 'acme.key1',
      });
      assert.ok(!JSON.stringify(body).includes(ACME_KEY));
    });

    test('a plain key given through ${env.NAME} is hashed at load and works under its own key id', async () => {
      const res = await get('/whoami', { 'x-api-key': ENV_KEY });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { keyId: string }).keyId, 'acme-env');
    });

    test('the key may come from the configured query parameter', async () => {
      const res = await get(`/whoami?api_key=${BOB_KEY}`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { id: string }).id, 'bob');
    });

    test('a missing, an unknown and a nearly right key get the same 401 with WWW-Authenticate', async () => {
      const answers = await Promise.all([
        get('/whoami'),
        get('/whoami', { 'x-api-key': 'no-such-key-at-all-0000000000' }),
        get('/whoami', { 'x-api-key': `${ACME_KEY.slice(0, -1)}0` }),
        get('/whoami', { 'x-api-key': '' }),
      ]);
      const bodies: unknown[] = [];
      for (const res of answers) {
        assert.equal(res.status, 401);
        assert.equal(
          res.headers.get('www-authenticate'),
          'Bearer realm="chorus", ApiKey realm="chorus", header="x-api-key"',
        );
        const { requestId: _id, ...problem } = await problemOf(res);
        bodies.push(problem);
      }
      assert.equal((bodies[0] as { code: string }).code, 'CHORUS_UNAUTHORIZED');
      for (const body of bodies) assert.deepEqual(body, bodies[0]);
      const failures = await metricsRegistry.getSingleMetric('chorus_auth_failures_total')!.get();
      const counted = failures.values.find(
        (v) => v.labels.endpoint === 'getWhoami' && v.labels.status === '401',
      );
      assert.ok((counted?.value ?? 0) >= 4, 'the failures are counted per endpoint and status');
    });

    test('a consumer without a required scope gets 403 naming the scope', async () => {
      const denied = await fetch(`${gateway.url}/catalog`, {
        method: 'POST',
        headers: { 'x-api-key': BOB_KEY },
      });
      assert.equal(denied.status, 403);
      const problem = await problemOf(denied);
      assert.equal(problem.code, 'CHORUS_FORBIDDEN');
      assert.match(String(problem.detail), /catalog:write/);
      assert.equal(problem.missingScope, 'catalog:write');
      const allowed = await fetch(`${gateway.url}/catalog`, {
        method: 'POST',
        headers: { 'x-api-key': ACME_KEY },
      });
      assert.equal(allowed.status, 200);
    });

    test('an endpoint may turn the default auth off, or let anonymous callers through', async () => {
      assert.equal((await get('/public')).status, 200);
      assert.deepEqual(await (await get('/maybe')).json(), { consumer: 'anonymous' });
      assert.deepEqual(await (await get('/maybe', { 'x-api-key': BOB_KEY })).json(), { consumer: 'bob' });
      // Wrong credentials are still refused where anonymous callers are welcome.
      assert.equal((await get('/maybe', { 'x-api-key': 'wrong-key-wrong-key-wrong' })).status, 401);
    });
  });

  describe('JWT', () => {
    test('a valid token names the declared consumer of its subject, with token and plan scopes', async () => {
      const token = await sign({ sub: 'user-bob', scope: 'profile orders:read' });
      const res = await get('/whoami', { authorization: `Bearer ${token}` });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.id, 'bob');
      assert.equal(body.plan, 'free');
      assert.equal(body.via, 'jwt');
      assert.deepEqual(body.scopes, ['profile', 'orders:read', 'catalog:read']);
      assert.equal((body.claims as { sub: string }).sub, 'user-bob');
    });

    test('an undeclared subject is a consumer of its own, on the plan its plan claim names', async () => {
      const token = await sign({ sub: 'svc-42', plan: 'gold' });
      const body = (await (await get('/whoami', { authorization: `Bearer ${token}` })).json()) as Record<
        string,
        unknown
      >;
      assert.equal(body.id, 'svc-42');
      assert.equal(body.plan, 'gold');
      const defaulted = await sign({ sub: 'svc-43', plan: 'no-such-plan' });
      const other = (await (await get('/whoami', { authorization: `Bearer ${defaulted}` })).json()) as Record<
        string,
        unknown
      >;
      assert.equal(other.plan, 'free');
    });

    test('expired, wrong-issuer, wrong-audience, alg none and HS256-with-the-RSA-public-key tokens each get 401', async () => {
      const publicPem = await exportSPKI(k1.publicKey);
      const now = Math.floor(Date.now() / 1000);
      const tokens = {
        expired: await sign({ sub: 'user-bob' }, { expiresIn: now - 3600 }),
        wrongIssuer: await sign({ sub: 'user-bob' }, { issuer: 'https://evil.test' }),
        wrongAudience: await sign({ sub: 'user-bob' }, { audience: 'someone-else' }),
        algNone: new UnsecuredJWT({ sub: 'user-bob' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .encode(),
        hsWithPublicKey: await new SignJWT({ sub: 'user-bob' })
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(publicPem)),
        noExpiry: await new SignJWT({ sub: 'user-bob' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .sign(k1.privateKey),
        tampered: `${(await sign({ sub: 'user-bob' })).slice(0, -4)}AAAA`,
      };
      for (const [name, token] of Object.entries(tokens)) {
        const res = await get('/whoami', { authorization: `Bearer ${token}` });
        assert.equal(res.status, 401, name);
        assert.equal(
          res.headers.get('www-authenticate'),
          'Bearer realm="chorus", error="invalid_token", ApiKey realm="chorus", header="x-api-key"',
          name,
        );
        assert.equal((await problemOf(res)).code, 'CHORUS_UNAUTHORIZED', name);
      }
      // A token just past its expiry is still accepted within the clock skew (5s).
      const justExpired = await sign({ sub: 'user-bob' }, { expiresIn: now - 2 });
      assert.equal((await get('/whoami', { authorization: `Bearer ${justExpired}` })).status, 200);
    });

    test('a required claim is checked: one of the listed values passes, others get 403 naming it', async () => {
      const owner = await sign({ sub: 'a', role: ['reader', 'owner'] });
      assert.equal((await get('/admin', { authorization: `Bearer ${owner}` })).status, 200);
      const reader = await sign({ sub: 'b', role: 'reader' });
      const denied = await get('/admin', { authorization: `Bearer ${reader}` });
      assert.equal(denied.status, 403);
      const problem = await problemOf(denied);
      assert.equal(problem.missingClaim, 'role');
      // The endpoint takes only JWT: an API key is no credential there.
      const keyed = await get('/admin', { 'x-api-key': ACME_KEY });
      assert.equal(keyed.status, 401);
      assert.equal(keyed.headers.get('www-authenticate'), 'Bearer realm="chorus"');
    });

    test('a flood of unknown kids fetches the JWKS at most once per refresh interval; a rotated key then works', async () => {
      // Keys are known (k1 fetched by earlier tests or now).
      assert.equal(
        (await get('/whoami', { authorization: `Bearer ${await sign({ sub: 'x' })}` })).status,
        200,
      );
      await new Promise((resolve) => setTimeout(resolve, 1600)); // past the refresh interval
      const before = jwksFetches();
      const unknown = await Promise.all(
        Array.from({ length: 40 }, (_, i) => sign({ sub: 'x' }, { key: k2, kid: `rotated-${i}` })),
      );
      const concurrent = await Promise.all(
        unknown.map((token) => get('/whoami', { authorization: `Bearer ${token}` })),
      );
      for (const token of unknown) {
        assert.equal((await get('/whoami', { authorization: `Bearer ${token}` })).status, 401);
      }
      assert.ok(concurrent.every((res) => res.status === 401));
      assert.equal(jwksFetches() - before, 1, 'one fetch for 80 tokens with unknown kids');

      // The issuer rotates: k2 is published. After the interval one refetch finds it.
      publicJwks = [...publicJwks, k2Jwk];
      const rotated = await sign({ sub: 'x' }, { key: k2, kid: 'k2' });
      assert.equal(
        (await get('/whoami', { authorization: `Bearer ${rotated}` })).status,
        401,
        'still cooling down',
      );
      assert.equal(jwksFetches() - before, 1);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      assert.equal((await get('/whoami', { authorization: `Bearer ${rotated}` })).status, 200);
      assert.equal(jwksFetches() - before, 2);
    });
  });

  describe('CORS', () => {
    const preflight = (route: string, headers: Record<string, string>): Promise<Response> =>
      fetch(gateway.url + route, { method: 'OPTIONS', headers });

    test('a preflight on a path with only GET and POST endpoints is answered by the endpoint of the requested method', async () => {
      const res = await preflight('/cors', {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'X-Api-Key, content-type',
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET');
      assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, x-api-key');
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(res.headers.get('access-control-max-age'), '600');
      assert.match(res.headers.get('vary') ?? '', /Origin/);
      const post = await preflight('/cors', {
        origin: 'https://elsewhere.test',
        'access-control-request-method': 'POST',
      });
      assert.equal(post.status, 204);
      assert.equal(post.headers.get('access-control-allow-origin'), '*');
      assert.equal(post.headers.get('access-control-allow-credentials'), null);
    });

    test('a preflight from an origin or with a header the policy does not allow gets 403', async () => {
      const origin = await preflight('/cors', {
        origin: 'https://evil.test',
        'access-control-request-method': 'GET',
      });
      assert.equal(origin.status, 403);
      assert.equal((await problemOf(origin)).code, 'CHORUS_CORS_REJECTED');
      assert.equal(origin.headers.get('access-control-allow-origin'), null);
      const header = await preflight('/cors', {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-secret-header',
      });
      assert.equal(header.status, 403);
      assert.match(String((await problemOf(header)).detail), /x-secret-header/);
    });

    test('a subdomain wildcard allows subdomains only, not look-alike hosts', async () => {
      const sub = await get('/cors', { origin: 'https://shop.eu.example.org', 'x-api-key': ACME_KEY });
      assert.equal(sub.headers.get('access-control-allow-origin'), 'https://shop.eu.example.org');
      for (const origin of [
        'https://example.org',
        'https://evil.test/.example.org',
        'http://a.example.org',
        'https://a.example.org.evil.test',
      ]) {
        const res = await get('/cors', { origin, 'x-api-key': ACME_KEY });
        assert.equal(res.status, 200, origin);
        assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
      }
    });

    test('actual requests from an allowed origin carry the CORS headers, error answers too', async () => {
      const ok = await get('/cors', { origin: 'https://app.example.com', 'x-api-key': ACME_KEY });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
      assert.match(ok.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
      assert.equal(ok.headers.get('vary'), 'Origin');
      const refused = await get('/cors', { origin: 'https://app.example.com' });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.ok(refused.headers.get('www-authenticate'));
      const noOrigin = await get('/cors', { 'x-api-key': ACME_KEY });
      assert.equal(noOrigin.headers.get('access-control-allow-origin'), null);
    });

    test('"*" together with credentials is a load error', async () => {
      const message = await loadErrorOf(`
endpoints:
  - method: GET
    path: /x
    policies: { cors: { origins: ["*"], credentials: true } }
    flow: [{ id: ok, map: 1 }]
`);
      assert.match(message, /:5:\d+ .*"\*" cannot be used with credentials/);
    });
  });

  describe('IP allow and deny lists', () => {
    test('the client address must be on the allow list; a trusted proxy may name it in X-Forwarded-For', async () => {
      const direct = await get('/office');
      assert.equal(direct.status, 403);
      assert.equal((await problemOf(direct)).code, 'CHORUS_IP_DENIED');
      const viaProxy = await get('/office', { 'x-forwarded-for': '10.1.2.3' });
      assert.equal(viaProxy.status, 200);
      const outsider = await get('/office', { 'x-forwarded-for': '192.0.2.7' });
      assert.equal(outsider.status, 403);
    });

    test('an address on the deny list is refused, whatever else', async () => {
      const res = await get('/not-loopback');
      assert.equal(res.status, 403);
      assert.equal((await problemOf(res)).code, 'CHORUS_IP_DENIED');
      assert.equal((await get('/not-loopback', { 'x-forwarded-for': '203.0.113.9' })).status, 200);
    });

    test('an entry that is not an address or CIDR range is a load error at its place', async () => {
      const message = await loadErrorOf(`
endpoints:
  - method: GET
    path: /x
    policies:
      ipFilter: { allow: [10.0.0.0/8, 10.0.0.0/40, not-an-ip] }
    flow: [{ id: ok, map: 1 }]
`);
      assert.match(message, /:6:\d+ "10\.0\.0\.0\/40" has a prefix length outside 0–32/);
      assert.match(message, /:6:\d+ "not-an-ip" is not an IP address or CIDR range/);
    });
  });

  describe('limits and input validation', () => {
    test('request headers over server.maxHeaderSize get 431 problem+json', async () => {
      const { status, headers, body } = await new Promise<{
        status: number;
        headers: Record<string, unknown>;
        body: string;
      }>((resolve, reject) => {
        const req = httpRequest(
          `${gateway.url}/public`,
          { headers: { 'x-big': 'a'.repeat(5000) } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 431);
      assert.equal(headers['content-type'], 'application/problem+json; charset=utf-8');
      const problem = JSON.parse(body) as Record<string, unknown>;
      assert.equal(problem.code, 'CHORUS_HEADERS_TOO_LARGE');
      assert.equal(problem.limit, 4096);
      // Headers under the limit pass.
      assert.equal((await get('/public', { 'x-big': 'a'.repeat(2000) })).status, 200);
    });

    test('a body over server.bodyLimit gets 413', async () => {
      const res = await fetch(`${gateway.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'x'.repeat(2000), quantity: 1 }),
      });
      assert.equal(res.status, 413);
      assert.equal((await problemOf(res)).code, 'CHORUS_BODY_TOO_LARGE');
    });

    test('a body nested deeper than server.jsonDepthLimit gets 400 CHORUS_BAD_JSON', async () => {
      const res = await fetch(`${gateway.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'a', quantity: 1, meta: { a: { b: { c: { d: { e: 1 } } } } } }),
      });
      assert.equal(res.status, 400);
      const problem = await problemOf(res);
      assert.equal(problem.code, 'CHORUS_BAD_JSON');
      assert.equal(problem.depthLimit, 5);
      const shallow = await fetch(`${gateway.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'a', quantity: 1, meta: { a: { b: 1 } } }),
      });
      assert.equal(shallow.status, 200);
    });

    test('a body that does not match the input schema gets 400 naming each wrong field', async () => {
      const res = await fetch(`${gateway.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quantity: 0 }),
      });
      assert.equal(res.status, 400);
      const problem = await problemOf(res);
      assert.equal(problem.code, 'CHORUS_VALIDATION_FAILED');
      const fields = (problem.errors as { field: string }[]).map((error) => error.field).sort();
      assert.deepEqual(fields, ['body.quantity', 'body.sku']);
    });
  });
});

describe('auth settings at load', () => {
  test('HS256 with a JWKS URL, a short plain key, an unknown plan and a shared key are load errors at their places', async () => {
    process.env.CHORUS_TEST_SHORT_KEY = 'short';
    try {
      const message = await loadErrorOf(`
auth:
  jwt:
    issuer: https://issuer.test
    audience: api
    jwksUrl: https://issuer.test/jwks
    algorithms: [RS256, HS256]
consumers:
  - id: a
    plan: platinum
    keys: ["${sha256(ACME_KEY)}", { key: "\${env.CHORUS_TEST_SHORT_KEY}" }]
  - id: b
    keys: ["${sha256(ACME_KEY)}"]
endpoints: []
`);
      assert.match(message, /:7:\d+ .*HS256 needs key\.secret; public keys never verify HMAC tokens/);
      assert.match(message, /:11:\d+ .*at least 16 characters/);
      assert.doesNotMatch(message, /short[^ ]/);
      const unknownPlan = await loadErrorOf(`
plans: { free: {} }
consumers:
  - id: a
    plan: platinum
    keys: ["${sha256(ACME_KEY)}"]
  - id: b
    keys: ["${sha256(ACME_KEY)}"]
endpoints: []
`);
      assert.match(unknownPlan, /:5:\d+ no plan "platinum" in plans \(known: free\)/);
      assert.match(unknownPlan, /:8:\d+ this key is also a key of consumer "a"/);
      assert.doesNotMatch(unknownPlan, new RegExp(sha256(ACME_KEY).slice(7)));
    } finally {
      delete process.env.CHORUS_TEST_SHORT_KEY;
    }
  });

  test('an endpoint asking for jwt without auth.jwt settings is a load error', async () => {
    const message = await loadErrorOf(`
endpoints:
  - method: GET
    path: /x
    policies: { auth: jwt }
    flow: [{ id: ok, map: 1 }]
`);
    assert.match(message, /:5:\d+ jwt needs the gateway-wide auth\.jwt settings/);
  });

  test('consumers may live in a file; its problems are reported at its own line and column', async () => {
    const config = await writeConfig(`
consumers: { file: ./consumers.yaml }
endpoints:
  - method: GET
    path: /whoami
    policies: { auth: apiKey }
    flow: [{ id: who, map: "{{ request.consumer.id }}" }]
`);
    const file = path.join(path.dirname(config), 'consumers.yaml');
    await writeFile(
      file,
      `- id: from-file\n  keys: ["${sha256(ACME_KEY)}"]\n- id: broken\n  keys: ["sha256:nothex"]\n`,
    );
    await assert.rejects(
      startGatewayFromFile(config),
      /consumers\.yaml:4:\d+ \[1\]\.keys\[0\]: expected "sha256:" and 64 hex digits/,
    );
    await writeFile(file, `- id: from-file\n  keys: ["${sha256(ACME_KEY)}"]\n`);
    const gateway = await startGatewayFromFile(config);
    try {
      const res = await fetch(`${gateway.url}/whoami`, { headers: { 'x-api-key': ACME_KEY } });
      assert.equal(res.status, 200);
      assert.equal(await res.json(), 'from-file');
    } finally {
      await gateway.close();
    }
  });

  test('a JWKS endpoint that fails is not fetched again by every request within the refresh interval', async () => {
    const failing = await startBackend((_req, res) => json(res, 503, {}));
    const gateway = await startTestGateway(`
auth:
  jwt:
    issuer: https://issuer.test
    audience: api
    jwksUrl: ${failing.url}/jwks
    algorithms: [ES256]
    jwks: { refreshInterval: 1m }
endpoints:
  - method: GET
    path: /whoami
    policies: { auth: jwt }
    flow: [{ id: who, map: "{{ request.consumer.id }}" }]
`);
    try {
      const pair = await generateKeyPair('ES256');
      const token = await new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'ES256', kid: 'a' })
        .setIssuer('https://issuer.test')
        .setAudience('api')
        .setExpirationTime('1m')
        .sign(pair.privateKey);
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${gateway.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 401);
      }
      assert.equal(failing.calls.length, 1);
    } finally {
      await gateway.close();
      await failing.close();
    }
  });

  test('a static PEM public key verifies RS256 tokens; a private key is refused at load', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(pair.publicKey);
    const config = await writeConfig(`
auth:
  jwt:
    issuer: https://issuer.test
    audience: api
    key: { file: ./public.pem }
    algorithms: [RS256]
endpoints:
  - method: GET
    path: /whoami
    policies: { auth: jwt }
    flow: [{ id: who, map: "{{ request.consumer.id }}" }]
`);
    await writeFile(path.join(path.dirname(config), 'public.pem'), pem);
    const gateway = await startGatewayFromFile(config);
    try {
      const token = await new SignJWT({ sub: 'static-user' })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer('https://issuer.test')
        .setAudience('api')
        .setExpirationTime('1m')
        .sign(pair.privateKey);
      const res = await fetch(`${gateway.url}/whoami`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      assert.equal(await res.json(), 'static-user');
      const hs = await new SignJWT({ sub: 'static-user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('https://issuer.test')
        .setAudience('api')
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode(pem));
      assert.equal(
        (await fetch(`${gateway.url}/whoami`, { headers: { authorization: `Bearer ${hs}` } })).status,
        401,
      );
    } finally {
      await gateway.close();
    }
    const { exportPKCS8 } = await import('jose');
    await writeFile(path.join(path.dirname(config), 'public.pem'), await exportPKCS8(pair.privateKey));
    await assert.rejects(startGatewayFromFile(config), /this is a private key; give the public key/);
  });
});
