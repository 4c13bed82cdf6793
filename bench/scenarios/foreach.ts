/** (d) forEach over 20 items: a list call, then one call per item (20 in flight), answered as a list. */
import { commonFiles, USER_COUNT, user } from '../backends/data.ts';
import { badGateway, getJson, getText, notFound, sendJson } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

interface ListDoc {
  ids: number[];
}

/** /list → 20 × /users/{id}; the answer is the array of the 20 users in list order. */
export function foreachScenario(): Scenario {
  const files = commonFiles();
  const expected = Array.from({ length: USER_COUNT }, (_, i) => user(i + 1));
  const statics: Record<string, string> = { '/list': files['/list']! };
  for (const [path, body] of Object.entries(files)) if (path.startsWith('/users/')) statics[path] = body;
  return {
    ref: { name: 'foreach' },
    title: `forEach over ${USER_COUNT} items`,
    path: '/foreach',
    backends: { static: statics },
    markers: ['User 01', `User ${USER_COUNT}`],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'graphql-mercurius', 'chorus'],
    chorus: (backends) => ({
      services: {
        backend: {
          kind: 'http',
          url: backends.static,
          operations: {
            list: { method: 'GET', path: '/list' },
            user: { method: 'GET', path: '/users/{id}' },
          },
        },
      },
      endpoints: [
        {
          method: 'GET',
          path: '/foreach',
          flow: [
            { id: 'list', call: 'backend.list' },
            {
              id: 'each',
              call: 'backend.user',
              forEach: 'steps.list.ids',
              concurrency: 20,
              input: { params: { id: '{{ item }}' } },
            },
          ],
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      if (req.url !== '/foreach') return notFound(res);
      (async () => {
        const list = (await getJson(pools.static, '/list')) as ListDoc;
        // Item bodies go into the array as they came: spliced as text, not parsed and re-serialized.
        const items = await Promise.all(list.ids.map((id) => getText(pools.static, `/users/${id}`)));
        sendJson(res, `[${items.join(',')}]`);
      })().catch(() => badGateway(res));
    },
    graphql: {
      schema: `
        type User { id: Int!, name: String!, email: String!, managerId: Int! }
        type Query { users: [User!]! }`,
      resolvers: (get) => ({
        Query: {
          users: async () => {
            const list = (await get('static', '/list')) as ListDoc;
            return Promise.all(list.ids.map((id) => get('static', `/users/${id}`)));
          },
        },
      }),
      query: '{ users { id name email managerId } }',
      unwrap: (body) => (body as { data?: { users?: unknown } }).data?.users,
    },
  };
}
