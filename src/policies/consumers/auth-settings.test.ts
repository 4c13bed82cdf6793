import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authPolicySchema } from '../inbound/auth/schema.ts';
import { jwtSettingsSchema } from './auth-settings.ts';

const base = { issuer: 'https://issuer.test', audience: 'api' };

test('algorithms must be explicit and never none', () => {
  assert.equal(jwtSettingsSchema.safeParse({ ...base, jwksUrl: 'https://i.test/jwks' }).success, false);
  assert.equal(
    jwtSettingsSchema.safeParse({ ...base, jwksUrl: 'https://i.test/jwks', algorithms: ['none'] }).success,
    false,
  );
  assert.equal(
    jwtSettingsSchema.safeParse({ ...base, jwksUrl: 'https://i.test/jwks', algorithms: ['RS256'] }).success,
    true,
  );
});

test('HMAC algorithms go only with a secret, and a secret only with HMAC algorithms', () => {
  const secret = { secret: 's'.repeat(32) };
  assert.equal(jwtSettingsSchema.safeParse({ ...base, key: secret, algorithms: ['HS256'] }).success, true);
  assert.equal(jwtSettingsSchema.safeParse({ ...base, key: secret, algorithms: ['RS256'] }).success, false);
  assert.equal(
    jwtSettingsSchema.safeParse({ ...base, key: { pem: 'x' }, algorithms: ['RS256', 'HS256'] }).success,
    false,
  );
});

test('exactly one of jwksUrl or key', () => {
  const both = { ...base, jwksUrl: 'https://i.test/jwks', key: { pem: 'x' }, algorithms: ['RS256'] };
  assert.equal(jwtSettingsSchema.safeParse(both).success, false);
  assert.equal(jwtSettingsSchema.safeParse({ ...base, algorithms: ['RS256'] }).success, false);
});

test('an endpoint requirement has a short form and a full form', () => {
  assert.equal(authPolicySchema.parse('apiKey'), 'apiKey');
  assert.deepEqual(authPolicySchema.parse(['apiKey', 'jwt']), ['apiKey', 'jwt']);
  assert.deepEqual(authPolicySchema.parse({ scopes: ['a'] }), {
    scopes: ['a'],
    claims: {},
    anonymous: false,
  });
  assert.equal(authPolicySchema.safeParse('basic').success, false);
});
