/** Content-coding negotiation and If-None-Match matching, as RFC 9110 reads them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ContentCoding, chooseCoding, matchesIfNoneMatch, weakEtag } from './encoding.ts';

const OFFERED: readonly ContentCoding[] = ['br', 'zstd', 'gzip'];

describe('Accept-Encoding negotiation', () => {
  test('the highest q wins; the server order breaks ties', () => {
    assert.equal(chooseCoding('br, gzip;q=0.5', OFFERED), 'br');
    assert.equal(chooseCoding('gzip, br', OFFERED), 'br');
    assert.equal(chooseCoding('gzip;q=1, br;q=0.9', OFFERED), 'gzip');
    assert.equal(chooseCoding('gzip, deflate', OFFERED), 'gzip');
  });

  test('q=0 refuses a coding; identity or nothing acceptable means the plain body', () => {
    assert.equal(chooseCoding('br;q=0, gzip', OFFERED), 'gzip');
    assert.equal(chooseCoding('identity', OFFERED), undefined);
    assert.equal(chooseCoding('deflate, compress', OFFERED), undefined);
    assert.equal(chooseCoding('gzip;q=0', OFFERED), undefined);
  });

  test('* stands for the codings not named; x-gzip is gzip; a malformed q counts as 0', () => {
    assert.equal(chooseCoding('*', OFFERED), 'br');
    assert.equal(chooseCoding('br;q=0, *;q=0.5', OFFERED), 'zstd');
    assert.equal(chooseCoding('x-gzip', OFFERED), 'gzip');
    assert.equal(chooseCoding('br;q=abc, gzip;q=0.1', OFFERED), 'gzip');
    assert.equal(chooseCoding('GZIP ; Q=0.8', OFFERED), 'gzip');
  });

  test('only the codings offered are chosen', () => {
    assert.equal(chooseCoding('br, gzip', ['gzip']), 'gzip');
    assert.equal(chooseCoding('br', ['gzip']), undefined);
  });
});

describe('If-None-Match', () => {
  const tag = weakEtag('{"a":1}');

  test('matches the tag weakly, in a list, or *', () => {
    assert.equal(matchesIfNoneMatch({ 'if-none-match': tag }, tag), true);
    assert.equal(
      matchesIfNoneMatch({ 'if-none-match': tag.slice(2) }, tag),
      true,
      'the strong form of a weak tag',
    );
    assert.equal(matchesIfNoneMatch({ 'if-none-match': `"x", ${tag}` }, tag), true);
    assert.equal(matchesIfNoneMatch({ 'if-none-match': '*' }, tag), true);
    assert.equal(matchesIfNoneMatch({ 'if-none-match': '"x"' }, tag), false);
    assert.equal(matchesIfNoneMatch({}, tag), false);
  });

  test('the tag is the same for the same body and differs for another', () => {
    assert.equal(weakEtag('{"a":1}'), weakEtag(Buffer.from('{"a":1}')));
    assert.notEqual(weakEtag('{"a":1}'), weakEtag('{"a":2}'));
  });
});
