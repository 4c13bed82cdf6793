import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseXml, XmlDecodeError } from './parse.ts';
import { applyShape, checkShapePath, shapeFromPaths } from './shape.ts';

const FEED = `<rss version="2.0"><channel><title>News</title>
  <item><title>One</title><rank>1</rank><live>true</live><zip>01234</zip></item>
</channel></rss>`;

describe('shaping XML read as JSON', () => {
  test('an element listed in arrays is an array even when it occurs once', () => {
    const shape = shapeFromPaths({ arrays: ['rss.channel.item'] });
    const output = applyShape(parseXml(FEED), shape, '') as { rss: { channel: { item: unknown[] } } };
    assert.ok(Array.isArray(output.rss.channel.item));
    assert.equal(output.rss.channel.item.length, 1);
  });

  test('"*" matches any one element name', () => {
    const shape = shapeFromPaths({ arrays: ['*.*.item'] });
    const output = applyShape(parseXml(FEED), shape, '') as { rss: { channel: { item: unknown[] } } };
    assert.ok(Array.isArray(output.rss.channel.item));
  });

  test('numbers and booleans paths type their text; other text stays a string', () => {
    const shape = shapeFromPaths({
      numbers: ['rss.channel.item.rank', 'rss.@version'],
      booleans: ['rss.channel.item.live'],
    });
    const output = applyShape(parseXml(FEED), shape, '') as Record<string, never>;
    assert.deepEqual(output, {
      rss: {
        '@version': 2,
        channel: { title: 'News', item: { title: 'One', rank: 1, live: true, zip: '01234' } },
      },
    });
  });

  test('parseValues reads numbers and booleans everywhere, keeping leading zeros as strings', () => {
    const output = applyShape(parseXml(FEED), shapeFromPaths({}), '', { parseValues: true });
    assert.deepEqual(output, {
      rss: {
        '@version': 2,
        channel: { title: 'News', item: { title: 'One', rank: 1, live: true, zip: '01234' } },
      },
    });
  });

  test('a value that is not the declared type is a decode error naming its path', () => {
    const shape = shapeFromPaths({ numbers: ['r.n'] });
    assert.throws(
      () => applyShape(parseXml('<r><n>twelve</n></r>'), shape, ''),
      (error) => error instanceof XmlDecodeError && /r\.n is "twelve", not a number/.test(error.message),
    );
  });

  test('an empty typed element reads as null', () => {
    const shape = shapeFromPaths({ numbers: ['r.n'], booleans: ['r.b'] });
    assert.deepEqual(applyShape(parseXml('<r><n/><b></b></r>'), shape, ''), { r: { n: null, b: null } });
  });

  test('paths with invalid names or an attribute before the end are reported', () => {
    assert.equal(checkShapePath('rss.channel.item'), undefined);
    assert.equal(checkShapePath('feed.entry.@id'), undefined);
    assert.match(checkShapePath('rss..item') ?? '', /not a path/);
    assert.match(checkShapePath('a.@b.c') ?? '', /only the last segment/);
  });
});
