/** (c) A dependent chain of 3 calls: each call's path comes from the previous answer. */
import { commonFiles, user } from '../backends/data.ts';
import { badGateway, getJson, getText, notFound, sendJson } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

interface StartDoc {
  next: number;
}
interface UserDoc {
  managerId: number;
}

/** /chain/start → /users/{next} → /users/{managerId}; the answer is the last user (User 06). */
export function chainScenario(): Scenario {
  const files = commonFiles();
  const first = (JSON.parse(files['/chain/start']!) as StartDoc).next;
  const expected = user(user(first).managerId);
  const statics: Record<string, string> = { '/chain/start': files['/chain/start']! };
  for (const [path, body] of Object.entries(files)) if (path.startsWith('/users/')) statics[path] = body;
  return {
    ref: { name: 'chain' },
    title: 'a dependent chain of 3 calls',
    path: '/chain',
    backends: { static: statics },
    markers: [expected.name, expected.email],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'graphql-mercurius', 'chorus'],
    chorus: (backends) => ({
      services: {
        backend: {
          kind: 'http',
          url: backends.static,
          operations: {
            first: { method: 'GET', path: '/chain/start' },
            user: { method: 'GET', path: '/users/{id}' },
          },
        },
      },
      endpoints: [
        {
          method: 'GET',
          path: '/chain',
          flow: [
            { id: 'first', call: 'backend.first' },
            { id: 'second', call: 'backend.user', input: { params: { id: '{{ steps.first.next }}' } } },
            { id: 'third', call: 'backend.user', input: { params: { id: '{{ steps.second.managerId }}' } } },
          ],
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      if (req.url !== '/chain') return notFound(res);
      (async () => {
        const start = (await getJson(pools.static, '/chain/start')) as StartDoc;
        const second = (await getJson(pools.static, `/users/${start.next}`)) as UserDoc;
        // The last answer is the response as it is: relayed as text, not parsed and re-serialized.
        sendJson(res, await getText(pools.static, `/users/${second.managerId}`));
      })().catch(() => badGateway(res));
    },
    graphql: {
      schema: `
        type User { id: Int!, name: String!, email: String!, managerId: Int!, manager: User! }
        type Start { next: Int!, user: User! }
        type Query { chain: Start! }`,
      // Nested fields are the dependent chain: each resolver needs its parent's answer.
      resolvers: (get) => ({
        Query: { chain: () => get('static', '/chain/start') },
        Start: { user: (parent: StartDoc) => get('static', `/users/${parent.next}`) },
        User: { manager: (parent: UserDoc) => get('static', `/users/${parent.managerId}`) },
      }),
      query: '{ chain { user { manager { id name email managerId } } } }',
      unwrap: (body) =>
        (body as { data?: { chain?: { user?: { manager?: unknown } } } }).data?.chain?.user?.manager,
    },
  };
}
