/**
 * (d') forEach over 50 items with keyed batching: a list call, then one call per batch of 25 keys
 * (2 calls instead of 50), each item matched to its result by id, answered as a list. Beside
 * `foreach` (one call per item), it shows what `batch` saves.
 */
import { user } from '../backends/data.ts';
import { badGateway, getJson, notFound, sendJson } from '../targets/handwritten-kit.ts';
import { expectJson } from './check.ts';
import type { Scenario } from './types.ts';

const ITEMS = 50;
const BATCH = 25;

interface ListDoc {
  ids: number[];
}

interface BatchDoc {
  users: { id: number }[];
}

/** /list-50 → /users-batch/1 and /users-batch/26 (25 users each); the answer is the 50 users in list order. */
export function foreachBatchedScenario(): Scenario {
  const ids = Array.from({ length: ITEMS }, (_, i) => i + 1);
  // nginx serves static files, so each batch is found by its first key (the path); the ids are
  // also sent as a query, as a real batch API would read them.
  const statics: Record<string, string> = { '/list-50': JSON.stringify({ ids, total: ITEMS }) };
  for (let first = 1; first <= ITEMS; first += BATCH) {
    const users = ids.slice(first - 1, first - 1 + BATCH).map(user);
    // Reversed: the gateway must match results by key, not by position.
    statics[`/users-batch/${first}`] = JSON.stringify({ users: users.reverse() });
  }
  const expected = ids.map(user);
  return {
    ref: { name: 'foreach-batched' },
    title: `forEach over ${ITEMS} items, batched by ${BATCH}`,
    path: '/foreach-batched',
    backends: { static: statics },
    markers: ['User 01', `User ${ITEMS}`],
    check: (value) => expectJson(value, expected),
    targets: ['handwritten', 'chorus'],
    chorus: (backends) => ({
      services: {
        backend: {
          kind: 'http',
          url: backends.static,
          operations: {
            list: { method: 'GET', path: '/list-50' },
            users: { method: 'GET', path: '/users-batch/{first}' },
          },
        },
      },
      endpoints: [
        {
          method: 'GET',
          path: '/foreach-batched',
          flow: [
            { id: 'list', call: 'backend.list' },
            {
              id: 'each',
              call: 'backend.users',
              forEach: 'steps.list.ids',
              input: {
                params: { first: '{{ batch.keys[0] }}' },
                query: { ids: "{{ batch.keys.map(k, string(k)).join(',') }}" },
              },
              batch: { key: 'item', size: BATCH, results: 'batch.output.users', resultKey: 'result.id' },
            },
          ],
        },
      ],
    }),
    handwritten: (pools) => (req, res) => {
      if (req.url !== '/foreach-batched') return notFound(res);
      (async () => {
        const list = (await getJson(pools.static, '/list-50')) as ListDoc;
        const batches: number[][] = [];
        for (let i = 0; i < list.ids.length; i += BATCH) batches.push(list.ids.slice(i, i + BATCH));
        const answers = await Promise.all(
          batches.map(
            (keys) =>
              getJson(pools.static, `/users-batch/${keys[0]}?ids=${keys.join(',')}`) as Promise<BatchDoc>,
          ),
        );
        const byId = new Map<number, unknown>();
        for (const answer of answers) for (const found of answer.users) byId.set(found.id, found);
        sendJson(res, JSON.stringify(list.ids.map((id) => byId.get(id) ?? null)));
      })().catch(() => badGateway(res));
    },
  };
}
