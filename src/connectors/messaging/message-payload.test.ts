import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChorusError } from '../../errors/catalogue.ts';
import { replyOutput } from './message-payload.ts';

const extras = { service: 'bus', operation: 'ask' };

test('a forwarded (raw) JSON reply is scanned: malformed JSON or HTML fails with CHORUS_UPSTREAM_DECODE', () => {
  for (const text of ['{"items": [1, 2, nope]]]}} <html>', '<html><body>oops</body></html>']) {
    assert.throws(
      () => replyOutput(extras, Buffer.from(text), true, true, false),
      (error) =>
        error instanceof ChorusError &&
        error.code === 'CHORUS_UPSTREAM_DECODE' &&
        error.extras.service === 'bus' &&
        error.extras.operation === 'ask',
    );
  }
  const good = Buffer.from('{"a":[1,2]}');
  assert.equal(replyOutput(extras, good, true, true, false).raw, good);
  assert.notEqual(replyOutput(extras, good, true, true, true).raw, good);
});
