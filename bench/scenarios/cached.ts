/**
 * Cached response: the 1 KB passthrough behind a response cache (memory store, 60 s TTL), so
 * after the first request every answer is a hit. The hand-written peer keeps the body it relayed
 * in a variable and answers from it — the least any cache can do.
 */
import { PAYLOAD_MARKER, payload } from '../backends/data.ts';
import { badGateway, getText, notFound, sendJson } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

/** A passthrough answered from the response cache. */
export function cachedScenario(): Scenario {
  const upstreamPath = '/item';
  const body = payload(1024);
  const expected: unknown = JSON.parse(body);
  return {
    ref: { name: 'cached' },
    title: 'a 1 KB JSON response from the response cache',
    path: '/cached',
    backends: { static: { [upstreamPath]: body } },
    markers: [PAYLOAD_MARKER, '"size":1024'],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'chorus'],
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
          path: '/cached',
          policies: { cache: { ttl: '60s' } },
          flow: [{ id: 'item', call: 'backend.item' }],
          response: { body: '{{ steps.item }}' },
        },
      ],
    }),
    handwritten: (pools) => {
      let cached: { text: string; until: number } | undefined;
      return (req, res) => {
        if (req.url !== '/cached') return notFound(res);
        if (cached && cached.until > Date.now()) return sendJson(res, cached.text);
        getText(pools.static, upstreamPath).then(
          (text) => {
            cached = { text, until: Date.now() + 60_000 };
            sendJson(res, text);
          },
          () => badGateway(res),
        );
      };
    },
  };
}
