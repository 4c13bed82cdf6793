import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closestName, editDistance } from './did-you-mean.ts';

describe('did you mean', () => {
  test('typos within a third of the word find the name meant', () => {
    assert.equal(closestName('requestTimout', ['port', 'requestTimeout', 'host']), 'requestTimeout');
    assert.equal(closestName('cal', ['id', 'call', 'map', 'code']), 'call');
    assert.equal(closestName('htp', ['http', 'soap', 'graphql']), 'http');
    assert.equal(closestName('nmae', ['id', 'name', 'tier']), 'name');
    assert.equal(closestName('Params', ['params', 'query']), 'params');
  });

  test('a word far from every name gets no suggestion, nor does an exact name', () => {
    assert.equal(closestName('zzz', ['http', 'soap']), undefined);
    assert.equal(closestName('http', ['http', 'https']), undefined);
  });

  test('an adjacent swap counts as one edit', () => {
    assert.equal(editDistance('nmae', 'name'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });
});
