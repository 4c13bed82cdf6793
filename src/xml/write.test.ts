import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseXml } from './parse.ts';
import { writeElement, XmlWriteError } from './write.ts';

describe('writing XML from JSON', () => {
  test('"@" keys are attributes, "#text" is text, arrays repeat, null is left out', () => {
    const xml = writeElement(
      'order',
      {
        '@id': 7,
        note: null,
        line: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 2 },
        ],
        total: { '@currency': 'EUR', '#text': 12.5 },
        gift: false,
        empty: '',
      },
      'body',
    );
    assert.equal(
      xml,
      '<order id="7"><line><sku>a</sku><qty>1</qty></line><line><sku>b</sku><qty>2</qty></line><total currency="EUR">12.5</total><gift>false</gift><empty/></order>',
    );
  });

  test('text and attribute values are escaped so the XML reads back the same', () => {
    const value = { '@q': 'a"<&>\n\tb', text: '</x><y>&amp; ]]> \r' };
    const xml = writeElement('r', value, 'body');
    assert.deepEqual(parseXml(xml), { r: { '@q': 'a"<&>\n\tb', text: '</x><y>&amp; ]]> \r' } });
    assert.doesNotMatch(xml, /<y>/);
  });

  test('a key that is not an XML name is refused, so request data cannot inject markup', () => {
    assert.throws(
      () => writeElement('r', { 'a><evil/': 1 }, 'body'),
      (error) => error instanceof XmlWriteError && error.field === 'body.a><evil/',
    );
    assert.throws(() => writeElement('r', { '@x="1" y': 1 }, 'body'), XmlWriteError);
  });

  test('characters XML cannot carry are refused', () => {
    assert.throws(
      () => writeElement('r', { a: 'bell\u0007' }, 'body'),
      (error) =>
        error instanceof XmlWriteError && /cannot carry/.test(error.message) && error.field === 'body.a',
    );
    assert.throws(() => writeElement('r', { a: 'lone \uD800' }, 'body'), XmlWriteError);
    assert.equal(writeElement('r', 'emoji 😀', 'body'), '<r>emoji 😀</r>');
  });

  test('an array inside an array is refused', () => {
    assert.throws(() => writeElement('r', { a: [[1]] }, 'body'), XmlWriteError);
  });
});
