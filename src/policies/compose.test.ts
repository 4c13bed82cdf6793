import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composePolicies } from './compose.ts';

type Handler = (trail: string[]) => Promise<string[]>;

test('policies compose with the first listed outermost, and may answer without calling next', async () => {
  const tag =
    (name: string) =>
    (next: Handler): Handler =>
    async (trail) => [...(await next([...trail, `${name}>`])), `<${name}`];
  const handler = composePolicies([tag('auth'), tag('rate')], async (trail) => [...trail, 'flow']);
  assert.deepEqual(await handler([]), ['auth>', 'rate>', 'flow', '<rate', '<auth']);

  const deny = (): Handler => async () => ['denied'];
  const guarded = composePolicies([deny, tag('rate')], async () => ['flow']);
  assert.deepEqual(await guarded([]), ['denied']);
});
