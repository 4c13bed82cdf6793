/**
 * API-key auth: the passthrough behind an API key checked against a consumer's stored digest. The
 * key travels in the query (`api_key`) because the load generators send a path, not headers; the
 * check is the same as for the x-api-key header. The hand-written peer does the same work by hand
 * (one SHA-256, one constant-time compare) so the table shows what the policy costs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { PAYLOAD_MARKER, payload } from '../backends/data.ts';
import { badGateway, notFound, relay } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

// A bench-only key; nothing real is behind it.
const BENCH_KEY = 'bench-api-key-0123456789abcdef';
const DIGEST = createHash('sha256').update(BENCH_KEY).digest();

/** Passthrough of a 1 KB JSON document to callers with a valid API key. */
export function apiKeyScenario(): Scenario {
  const upstreamPath = '/item';
  const body = payload(1024);
  const expected: unknown = JSON.parse(body);
  const publicPath = `/protected?api_key=${BENCH_KEY}`;
  return {
    ref: { name: 'api-key' },
    title: 'passthrough of a 1 KB JSON response behind an API key',
    path: publicPath,
    backends: { static: { [upstreamPath]: body } },
    markers: [PAYLOAD_MARKER, '"size":1024'],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'chorus'],
    chorus: (backends) => ({
      auth: { apiKey: { header: 'x-api-key', query: 'api_key' } },
      consumers: [{ id: 'bench', keys: [`sha256:${DIGEST.toString('hex')}`] }],
      services: {
        backend: {
          kind: 'http',
          url: backends.static,
          operations: { item: { method: 'GET', path: upstreamPath } },
        },
      },
      endpoints: [
        {
          method: 'GET',
          path: '/protected',
          policies: { auth: 'apiKey' },
          flow: [{ id: 'item', call: 'backend.item' }],
          response: { body: '{{ steps.item }}' },
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/protected') return notFound(res);
      const key = req.headers['x-api-key'] ?? url.searchParams.get('api_key');
      const presented = createHash('sha256')
        .update(typeof key === 'string' ? key : '')
        .digest();
      if (!timingSafeEqual(presented, DIGEST)) {
        res.writeHead(401, { 'content-type': 'application/problem+json' });
        res.end('{"status":401}');
        return;
      }
      relay(pools.static, upstreamPath, res).catch(() => badGateway(res));
    },
  };
}
