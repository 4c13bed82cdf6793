/** (b) Aggregation: 3 parallel backend calls merged by a mapping into one response. */
import { commonFiles } from '../backends/data.ts';
import { badGateway, getJson, notFound, sendJson } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

interface UserDoc {
  name: string;
}
interface OrdersDoc {
  orders: unknown[];
}
interface StockDoc {
  level: number;
}

/** Three independent calls (user, orders, stock) composed into `{ user, orders, stock }`. */
export function aggregateScenario(): Scenario {
  const files = commonFiles();
  const pick = (path: string) => ({ [path]: files[path]! });
  const expected = {
    user: 'Ada Lovelace',
    orders: (JSON.parse(files['/agg/orders']!) as OrdersDoc).orders,
    stock: 17,
  };
  return {
    ref: { name: 'aggregate' },
    title: '3 parallel backend calls merged into one response',
    path: '/aggregate',
    backends: { static: { ...pick('/agg/user'), ...pick('/agg/orders'), ...pick('/agg/stock') } },
    markers: ['Ada Lovelace', 'ORD-0005', '"stock":17'],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'graphql-mercurius', 'chorus'],
    chorus: (backends) => ({
      services: {
        backend: {
          kind: 'http',
          url: backends.static,
          operations: {
            a: { method: 'GET', path: '/agg/user' },
            b: { method: 'GET', path: '/agg/orders' },
            c: { method: 'GET', path: '/agg/stock' },
          },
        },
      },
      endpoints: [
        {
          method: 'GET',
          path: '/aggregate',
          flow: [
            { id: 'a', call: 'backend.a' },
            { id: 'b', call: 'backend.b' },
            { id: 'c', call: 'backend.c' },
          ],
          response: {
            body: {
              user: '{{ steps.a.name }}',
              orders: '{{ steps.b.orders }}',
              stock: '{{ steps.c.level }}',
            },
          },
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      if (req.url !== '/aggregate') return notFound(res);
      Promise.all([
        getJson(pools.static, '/agg/user'),
        getJson(pools.static, '/agg/orders'),
        getJson(pools.static, '/agg/stock'),
      ]).then(
        ([user, orders, stock]) =>
          sendJson(
            res,
            JSON.stringify({
              user: (user as UserDoc).name,
              orders: (orders as OrdersDoc).orders,
              stock: (stock as StockDoc).level,
            }),
          ),
        () => badGateway(res),
      );
    },
    graphql: {
      schema: `
        type Order { id: String!, total: Float!, currency: String!, status: String! }
        type Aggregate { user: String!, orders: [Order!]!, stock: Int! }
        type Query { aggregate: Aggregate! }`,
      // Sibling fields resolve in parallel, so the three calls run concurrently as in the others.
      resolvers: (get) => ({
        Query: { aggregate: () => ({}) },
        Aggregate: {
          user: async () => ((await get('static', '/agg/user')) as UserDoc).name,
          orders: async () => ((await get('static', '/agg/orders')) as OrdersDoc).orders,
          stock: async () => ((await get('static', '/agg/stock')) as StockDoc).level,
        },
      }),
      query: '{ aggregate { user orders { id total currency status } stock } }',
      unwrap: (body) => (body as { data?: { aggregate?: unknown } }).data?.aggregate,
    },
  };
}
