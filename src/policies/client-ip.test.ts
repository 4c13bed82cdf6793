import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClientIpResolver } from './client-ip.ts';

test('without trusted proxies the TCP peer is the client, whatever X-Forwarded-For says', () => {
  const { resolve } = createClientIpResolver([]);
  assert.equal(resolve('::ffff:10.0.0.7', '1.2.3.4'), '10.0.0.7');
});

test('a trusted proxy’s X-Forwarded-For is walked from the right, skipping trusted hops', () => {
  const { resolve, issues } = createClientIpResolver(['127.0.0.1', '10.0.0.0/8']);
  assert.deepEqual(issues, []);
  assert.equal(resolve('127.0.0.1', '203.0.113.9'), '203.0.113.9');
  // A client that sends its own X-Forwarded-For: only the hop the proxy appended counts.
  assert.equal(resolve('127.0.0.1', '6.6.6.6, 198.51.100.4, 10.1.2.3'), '198.51.100.4');
  assert.equal(resolve('192.0.2.1', '6.6.6.6'), '192.0.2.1');
  assert.equal(resolve('127.0.0.1', 'garbage'), '127.0.0.1');
});

test('bad trusted-proxy entries are reported', () => {
  const { issues } = createClientIpResolver(['10.0.0.0/40', 'proxy.local']);
  assert.equal(issues.length, 2);
});
