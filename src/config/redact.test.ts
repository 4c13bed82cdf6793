import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED, redactConfig } from './redact.ts';

describe('redactConfig', () => {
  test('values under secret keys are redacted, keeping their shape', () => {
    const out = redactConfig(
      {
        admin: { credential: 'a'.repeat(20) },
        consumers: [{ id: 'c', keys: ['k1', 'k2'] }],
        auth: { password: 'p', port: 1 },
      },
      {},
    );
    assert.deepEqual(out, {
      admin: { credential: REDACTED },
      consumers: [{ id: 'c', keys: [REDACTED, REDACTED] }],
      auth: { password: REDACTED, port: 1 },
    });
  });

  test("a URL's password is redacted, its user and host kept", () => {
    assert.deepEqual(redactConfig({ stores: { redis: { url: 'redis://app:s3cret@redis:6379/0' } } }, {}), {
      stores: { redis: { url: `redis://app:${REDACTED}@redis:6379/0` } },
    });
  });

  test('the value of a secret-named environment variable is redacted wherever it was interpolated', () => {
    const env = { PAYMENTS_API_KEY: 'pk_live_123456789', HOME: '/root/abcdefgh' };
    const out = redactConfig(
      { services: { p: { headers: { 'x-sig': 'sig pk_live_123456789' } } }, dir: '/root/abcdefgh' },
      env,
    );
    assert.deepEqual(out, {
      services: { p: { headers: { 'x-sig': `sig ${REDACTED}` } } },
      dir: '/root/abcdefgh',
    });
  });

  test('functions and cycles come out as JSON-safe markers', () => {
    const config: Record<string, unknown> = { step: function price() {} };
    config.self = config;
    assert.deepEqual(redactConfig(config, {}), { step: '[function price]', self: '[cycle]' });
  });
});
