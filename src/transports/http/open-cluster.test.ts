import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectorIssue } from '../../contracts/connector.ts';
import { readServiceUrls } from './open-cluster.ts';

function read(config: { url?: string; urls?: string[] }, sameQuery = false) {
  const issues: ConnectorIssue[] = [];
  const urls = readServiceUrls(config, issues, { credentialsHint: 'put them in headers', sameQuery });
  return { urls: urls.map((url) => url.href), issues };
}

describe('the urls of an HTTP-based service', () => {
  test('url gives one base URL and urls several', () => {
    assert.deepEqual(read({ url: 'http://a:1/api' }), { urls: ['http://a:1/api'], issues: [] });
    assert.deepEqual(read({ urls: ['http://a:1/api', 'http://b:2/api/'] }).urls, [
      'http://a:1/api',
      'http://b:2/api/',
    ]);
  });

  test('url and urls together, or neither, are refused', () => {
    assert.deepEqual(read({ url: 'http://a:1', urls: ['http://b:2'] }).issues, [
      { path: ['urls'], message: 'give url or urls, not both' },
    ]);
    assert.deepEqual(read({}).issues, [
      { path: ['url'], message: 'give the service url (or urls, to balance over several)' },
    ]);
  });

  test('urls must share their path (and their query for endpoint URLs), and list each origin once', () => {
    assert.deepEqual(read({ urls: ['http://a:1/api', 'http://b:2/other'] }).issues, [
      { path: ['urls', 1], message: 'every url of a service must have the same path' },
    ]);
    assert.deepEqual(read({ urls: ['http://a:1/s?v=1', 'http://b:2/s?v=2'] }, true).issues, [
      { path: ['urls', 1], message: 'every url of a service must have the same path and query' },
    ]);
    assert.deepEqual(read({ urls: ['http://a:1/api', 'http://a:1/api'] }).issues, [
      { path: ['urls', 1], message: 'http://a:1 is listed twice' },
    ]);
  });

  test('credentials in a url are refused, since they would not be sent', () => {
    assert.deepEqual(read({ url: 'http://user:pw@a:1' }).issues, [
      { path: ['url'], message: 'credentials in the url are not sent; put them in headers' },
    ]);
  });
});
