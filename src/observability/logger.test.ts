import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.ts';

test('secrets in headers and credential-like fields are redacted', async () => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger({ destination: stream, level: 'info' });
  logger.info(
    {
      req: {
        headers: {
          authorization: 'Bearer a',
          'proxy-authorization': 'Basic b',
          cookie: 'c',
          'x-api-key': 'd',
        },
      },
      headers: { authorization: 'Bearer e', 'proxy-authorization': 'f', 'x-api-key': 'g' },
      admin: { credential: 'h' },
      call: { authorization: 'i', token: 'j', password: 'k', secret: 'l', apiKey: 'm' },
      kept: 'visible',
    },
    'line',
  );
  await new Promise((resolve) => setImmediate(resolve));
  const line = JSON.parse(chunks.join('')) as Record<string, unknown>;
  const text = JSON.stringify(line);
  for (const secret of [
    'Bearer a',
    'Basic b',
    '"c"',
    '"d"',
    'Bearer e',
    '"f"',
    '"g"',
    '"h"',
    '"i"',
    '"j"',
    '"k"',
    '"l"',
    '"m"',
  ]) {
    assert.ok(!text.includes(secret), `${secret} is not logged`);
  }
  assert.equal(line.kept, 'visible');
});
