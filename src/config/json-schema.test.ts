import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { configJsonSchema } from '../modules.ts';

test('schema/chorus.schema.json is the schema generated from the code (run npm run schema after a change)', async () => {
  const committed = JSON.parse(
    await readFile(new URL('../../schema/chorus.schema.json', import.meta.url), 'utf8'),
  );
  assert.deepEqual(committed, configJsonSchema());
});
