import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeXmlBytes, isXmlMediaType, parseXml, parseXmlElements, XmlDecodeError } from './parse.ts';

function isDecodeError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof XmlDecodeError, `expected an XmlDecodeError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('reading XML as JSON', () => {
  test('names are local names, attributes are "@" keys, text is the value or "#text" beside attributes', () => {
    const document = parseXml(
      '<?xml version="1.0"?><a:root xmlns:a="urn:a" xmlns="urn:d" a:id="7"><item>one</item><price currency="EUR">9.5</price><empty/></a:root>',
    );
    assert.deepEqual(document, {
      root: { '@id': '7', item: 'one', price: { '@currency': 'EUR', '#text': '9.5' }, empty: '' },
    });
  });

  test('a repeated element is an array and values stay strings', () => {
    assert.deepEqual(parseXml('<r><n>1</n><n>2</n><b>true</b></r>'), { r: { n: ['1', '2'], b: 'true' } });
  });

  test('the predefined entities and character references are decoded, in text and attributes', () => {
    assert.deepEqual(parseXml('<r t="&quot;&#233;&quot;">a &amp; b &lt;c&gt; &#xE9;&#233; &apos;</r>'), {
      r: { '@t': '"é"', '#text': "a & b <c> éé '" },
    });
  });

  test('CDATA is text, and a DOCTYPE inside CDATA or a comment is only text', () => {
    assert.deepEqual(parseXml('<r><!-- <!DOCTYPE x> --><d><![CDATA[<!DOCTYPE html><p>x</p>]]></d></r>'), {
      r: { d: '<!DOCTYPE html><p>x</p>' },
    });
  });

  test('a DOCTYPE is refused before parsing, so entities are never expanded', () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>';
    assert.throws(
      () => parseXml(bomb),
      isDecodeError(/<!DOCTYPE> declaration; DTDs and entity declarations are refused/),
    );
    const xxe = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>';
    assert.throws(() => parseXml(xxe), isDecodeError(/DOCTYPE/));
  });

  test('an entity declaration outside a DOCTYPE is refused too', () => {
    assert.throws(() => parseXml('<r><!ENTITY x "y"></r>'), isDecodeError(/<!ENTITY>/));
  });

  test('an undeclared entity stays literal text', () => {
    assert.deepEqual(parseXml('<r>&xxe;</r>'), { r: '&xxe;' });
  });

  test('mismatched, unclosed and truncated documents are malformed, with their position', () => {
    assert.throws(() => parseXml('<a><b>1</c></a>'), isDecodeError(/line 1, column 8/));
    assert.throws(() => parseXml('<a><b>1</b>'), isDecodeError(/Unclosed tag 'a'/));
    assert.throws(() => parseXml('not xml'), isDecodeError(/malformed/));
    assert.throws(() => parseXml(''), isDecodeError(/malformed/));
  });

  test('__proto__ and constructor elements are refused rather than polluting prototypes', () => {
    assert.throws(() => parseXml('<r><__proto__><polluted>1</polluted></__proto__></r>'), XmlDecodeError);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('nesting deeper than 256 levels is refused', () => {
    const deep = '<a>'.repeat(300) + '</a>'.repeat(300);
    assert.throws(() => parseXml(deep), XmlDecodeError);
  });
});

describe('decoding XML bytes', () => {
  test('the content type charset decides, then the XML declaration, else UTF-8', () => {
    const latin1 = Buffer.from('<r>café</r>', 'latin1');
    assert.equal(decodeXmlBytes(latin1, 'text/xml; charset=ISO-8859-1'), '<r>café</r>');
    const declared = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="windows-1252"?><r>'),
      Buffer.from([0x80]),
      Buffer.from('</r>'),
    ]);
    assert.equal(
      decodeXmlBytes(declared, 'application/xml'),
      '<?xml version="1.0" encoding="windows-1252"?><r>€</r>',
    );
    assert.equal(decodeXmlBytes(Buffer.from('<r>café</r>'), undefined), '<r>café</r>');
  });

  test('a UTF-16 BOM decides over everything else', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<r>ü</r>', 'utf16le')]);
    assert.deepEqual(parseXml(decodeXmlBytes(utf16, 'text/xml; charset=utf-8')), { r: 'ü' });
  });

  test('an unknown charset is a decode error', () => {
    assert.throws(
      () => decodeXmlBytes(Buffer.from('<r/>'), 'text/xml; charset=x-klingon'),
      isDecodeError(/unknown charset/),
    );
  });

  test('XML media types are application/xml, text/xml and +xml types', () => {
    assert.deepEqual(
      [
        'application/xml',
        'text/xml',
        'application/rss+xml',
        'application/soap+xml',
        'application/json',
        'text/html',
      ].map(isXmlMediaType),
      [true, true, true, true, false, false],
    );
  });
});

describe('reading XML with namespaces', () => {
  test('elements carry their namespace URI and the prefixes in scope', () => {
    const root = parseXmlElements(
      '<w:a xmlns:w="urn:w" xmlns="urn:d" n="1"><b x:y="z" xmlns:x="urn:x">t</b></w:a>',
    );
    assert.equal(root.ns, 'urn:w');
    assert.equal(root.local, 'a');
    assert.deepEqual(root.attributes, { n: '1' });
    const child = root.children[0]!;
    assert.equal(child.ns, 'urn:d');
    assert.equal(child.text, 't');
    assert.equal(child.scope.get('x'), 'urn:x');
    assert.equal(root.scope.get('x'), undefined);
  });

  test('an undeclared prefix is an error', () => {
    assert.throws(() => parseXmlElements('<p:a/>'), isDecodeError(/undeclared namespace prefix "p"/));
  });
});
