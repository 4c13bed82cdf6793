/**
 * Endpoint count: `count` passthrough endpoints (/e/0 … /e/count-1), load spread over all of them.
 * Measures what routing and per-endpoint state cost as a config grows, and startup time and RSS.
 */
import { PAYLOAD_MARKER, payload } from '../backends/data.ts';
import { badGateway, notFound, relay } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

/** `count` endpoints, each a passthrough of the 1 KB item. */
export function endpointsScenario(params: { count?: number } = {}): Scenario {
  const count = params.count ?? 10;
  const body = payload(1024);
  const expected: unknown = JSON.parse(body);
  const paths = Array.from({ length: count }, (_, i) => `/e/${i}`);
  return {
    ref: { name: 'endpoints', params: { count } },
    title: `${count} passthrough endpoints, load spread over all`,
    path: '/e/0',
    backends: { static: { '/item': body } },
    markers: [PAYLOAD_MARKER],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'nginx', 'chorus'],
    upstreamPath: '/item',
    pathCycle: { prefix: '/e/', count },
    chorus: (backends) => ({
      services: {
        backend: {
          kind: 'http',
          url: backends.static,
          operations: { item: { method: 'GET', path: '/item' } },
        },
      },
      endpoints: paths.map((path) => ({
        method: 'GET' as const,
        path,
        flow: [{ id: 'item', call: 'backend.item' }],
        response: { body: '{{ steps.item }}' },
      })),
    }),
    handwritten: (pools) => {
      // A route table as a careful person would keep it: one Map lookup per request.
      const routes = new Map(paths.map((path) => [path, '/item']));
      return (req, res) => {
        const upstream = routes.get(req.url ?? '');
        if (upstream === undefined) return notFound(res);
        relay(pools.static, upstream, res).catch(() => badGateway(res));
      };
    },
  };
}
