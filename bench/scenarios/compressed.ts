/**
 * Compressed passthrough: one backend call whose 10 KB JSON body is the response, asked for with
 * `accept-encoding: gzip`, so the gateway compresses every answer (gzip level 6, above the 1 KB
 * threshold). The hand-written peer gzips the relayed body the same way, synchronously, per
 * request — the least any gateway that compresses does. The load generator checks the status only
 * (the markers are in the compressed bytes); the harness decodes the first answer and checks it whole.
 */
import { gzipSync } from 'node:zlib';
import { payload } from '../backends/data.ts';
import { badGateway, getText, notFound } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

const BYTES = 10 * 1024;

/** A 10 KB JSON passthrough, gzip-compressed toward the client. */
export function compressedScenario(): Scenario {
  const upstreamPath = '/payload/10240';
  const body = payload(BYTES);
  const expected: unknown = JSON.parse(body);
  return {
    ref: { name: 'compressed' },
    title: 'a 10 KB JSON response, gzip-compressed for the client',
    path: '/compressed',
    requestHeaders: { 'accept-encoding': 'gzip' },
    backends: { static: { [upstreamPath]: body } },
    markers: [],
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
          path: '/compressed',
          flow: [{ id: 'item', call: 'backend.item' }],
          response: { body: '{{ steps.item }}' },
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      if (req.url !== '/compressed') return notFound(res);
      getText(pools.static, upstreamPath).then(
        (text) => {
          const gzipped = gzipSync(text, { level: 6 });
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            vary: 'accept-encoding',
            'content-length': gzipped.length,
          });
          res.end(gzipped);
        },
        () => badGateway(res),
      );
    },
  };
}
