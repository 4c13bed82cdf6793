/**
 * Fan-out: N independent calls per request, merged into `{ s0, …, sN-1 }`. With delayMs 0 the leaves
 * are nginx static files (cost per call); with delayMs 20 each leaf answers after 20 ms (the target:
 * p50 ≤ 25 ms up to N = 50, i.e. the calls really run in parallel).
 */
import { commonFiles } from '../backends/data.ts';
import { badGateway, getJson, notFound, sendJson } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

interface LeafDoc {
  value: string;
}

/** N parallel calls to a static (delayMs 0) or fixed-delay leaf. */
export function fanoutScenario(params: { n?: number; delayMs?: number } = {}): Scenario {
  const n = params.n ?? 10;
  const delayMs = params.delayMs ?? 0;
  const slow = delayMs > 0;
  const leafPath = '/fan/item';
  const value = slow ? 'slow-leaf' : 'fan-out-leaf';
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  const expected = Object.fromEntries(ids.map((id) => [id, value]));
  return {
    ref: { name: 'fanout', params: { n, delayMs } },
    title: `fan-out to ${n} parallel calls${slow ? ` of ${delayMs} ms each` : ''}`,
    path: '/fanout',
    backends: slow ? { static: {}, delayMs } : { static: { [leafPath]: commonFiles()[leafPath]! } },
    markers: [value, `"s${n - 1}"`],
    check: (answer) => expectJson(answer, expected),
    targets: ['handwritten', 'graphql-mercurius', 'chorus'],
    // One leaf call: the latency floor for the delayed case (its answer is a leaf, not the merge).
    ...(slow
      ? {
          direct: {
            path: leafPath,
            backend: 'delay' as const,
            markers: [value],
            check: (leaf: unknown) =>
              (leaf as LeafDoc | undefined)?.value === value ? undefined : 'not a leaf',
          },
        }
      : {}),
    chorus: (backends) => ({
      services: {
        leaf: {
          kind: 'http',
          url: slow ? backends.delay! : backends.static,
          operations: { get: { method: 'GET', path: leafPath } },
        },
      },
      endpoints: [
        {
          method: 'GET',
          path: '/fanout',
          flow: ids.map((id) => ({ id, call: 'leaf.get' })),
          response: { body: Object.fromEntries(ids.map((id) => [id, `{{ steps.${id}.value }}`])) },
        },
      ],
    }),
    handwritten: (pools) => {
      const pool = slow ? pools.delay! : pools.static;
      return (req, res) => {
        if (req.url !== '/fanout') return notFound(res);
        Promise.all(ids.map(() => getJson(pool, leafPath))).then(
          (leaves) => {
            const out: Record<string, string> = {};
            for (let i = 0; i < n; i++) out[ids[i]!] = (leaves[i] as LeafDoc).value;
            sendJson(res, JSON.stringify(out));
          },
          () => badGateway(res),
        );
      };
    },
    graphql: {
      schema: `type Fan { ${ids.map((id) => `${id}: String!`).join(', ')} }\ntype Query { fanout: Fan! }`,
      resolvers: (get) => ({
        Query: { fanout: () => ({}) },
        Fan: Object.fromEntries(
          ids.map((id) => [
            id,
            async () => ((await get(slow ? 'delay' : 'static', leafPath)) as LeafDoc).value,
          ]),
        ),
      }),
      query: `{ fanout { ${ids.join(' ')} } }`,
      unwrap: (body) => (body as { data?: { fanout?: unknown } }).data?.fanout,
    },
  };
}
