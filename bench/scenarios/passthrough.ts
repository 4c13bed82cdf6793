/** (a) Passthrough: one backend call whose JSON body (~1 KB by default) is the response. */
import { PAYLOAD_MARKER, payload } from '../backends/data.ts';
import { badGateway, notFound, relay } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

/** Passthrough of a `bytes`-sized JSON document (1 KB for the main table, up to 1 MB for the payload curve). */
export function passthroughScenario(params: { bytes?: number } = {}): Scenario {
  const bytes = params.bytes ?? 1024;
  const upstreamPath = bytes === 1024 ? '/item' : `/payload/${bytes}`;
  const body = payload(bytes);
  const expected: unknown = JSON.parse(body);
  return {
    ref: { name: 'passthrough', params: { bytes } },
    title: `passthrough of a ${bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes / 1024} KB`} JSON response`,
    path: '/passthrough',
    backends: { static: { [upstreamPath]: body } },
    markers: [PAYLOAD_MARKER, `"size":${bytes}`],
    check: (value) => expectJson(value, expected),
    targets: [
      'direct',
      'handwritten',
      'nginx',
      'fast-gateway',
      'fastify-http-proxy',
      'express-gateway',
      'chorus',
    ],
    direct: { path: upstreamPath },
    upstreamPath,
    chorus: (backends) => ({
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
          path: '/passthrough',
          flow: [{ id: 'item', call: 'backend.item' }],
          response: { body: '{{ steps.item }}' },
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      if (req.url !== '/passthrough') return notFound(res);
      relay(pools.static, upstreamPath, res).catch(() => badGateway(res));
    },
  };
}
