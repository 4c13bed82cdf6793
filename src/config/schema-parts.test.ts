import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { durationSchema, inBytes, inMilliseconds, sizeSchema } from './schema-parts.ts';

const settings = z.object({
  items: z
    .array(
      z.strictObject({
        wait: inMilliseconds(durationSchema).prefault('10m'),
        limit: inBytes(sizeSchema).optional(),
      }),
    )
    .default([]),
});

test('durations and sizes are numbers once parsed, defaults included', () => {
  assert.deepEqual(settings.parse({ items: [{}, { wait: '250ms', limit: '2kb' }, { wait: 5 }] }), {
    items: [{ wait: 600_000 }, { wait: 250, limit: 2048 }, { wait: 5 }],
  });
  assert.equal(settings.safeParse({ items: [{ wait: 'soon' }] }).success, false);
});

test('the JSON Schema still shows the string forms and every default', () => {
  const json = z.toJSONSchema(settings, { target: 'draft-2020-12', io: 'input' }) as unknown as {
    properties: { items: { default: unknown; items: { properties: { wait: { default: unknown } } } } };
  };
  assert.deepEqual(json.properties.items.default, []);
  assert.equal(json.properties.items.items.properties.wait.default, '10m');
});
