import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Consumer } from '../../contracts/policy.ts';
import { createApiKeyIndex, hashApiKey, MAX_API_KEY_LENGTH, parseKeyHash, readApiKey } from './api-key.ts';

const consumer: Consumer = { id: 'acme', plan: undefined, scopes: [], via: 'apiKey', keyId: 'acme.key1' };

test('a key is found by its digest, and only the exact key is', () => {
  const digest = parseKeyHash(`sha256:${createHash('sha256').update('the-right-key-123').digest('hex')}`);
  assert.deepEqual(digest, hashApiKey('the-right-key-123'));
  const index = createApiKeyIndex([{ digest, consumer }]);
  assert.equal(index.find('the-right-key-123'), consumer);
  assert.equal(index.find('the-right-key-124'), undefined);
  assert.equal(index.find(''), undefined);
  assert.equal(index.size, 1);
});

test('a key is read from the header first, then the query parameter; repeated or oversized keys are unreadable', () => {
  const source = { header: 'x-api-key', query: 'api_key' };
  assert.equal(readApiKey(source, { 'x-api-key': 'h' }, { api_key: 'q' }), 'h');
  assert.equal(readApiKey(source, {}, { api_key: 'q' }), 'q');
  assert.equal(readApiKey(source, {}, {}), undefined);
  assert.equal(readApiKey({ header: 'x-api-key', query: undefined }, {}, { api_key: 'q' }), undefined);
  assert.equal(readApiKey(source, {}, { api_key: ['a', 'b'] }), null);
  assert.equal(readApiKey(source, { 'x-api-key': 'k'.repeat(MAX_API_KEY_LENGTH + 1) }, {}), null);
  assert.equal(readApiKey(source, { 'x-api-key': '' }, {}), null);
});
