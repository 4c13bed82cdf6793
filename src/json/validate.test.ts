import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isWellFormedJson, scanJson } from './validate.ts';

const ok = (text: string | Buffer): boolean =>
  isWellFormedJson(typeof text === 'string' ? Buffer.from(text) : text);

describe('the validating JSON scan', () => {
  test('accepts every kind of JSON value, with surrounding whitespace', () => {
    for (const text of [
      '{}',
      '[]',
      ' \t\r\n{ "a" : [ 1 , -2.5e+10 , 0 , 0.0, 1E-3 , true , false , null , "x" ] } \n',
      '"a string with \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 escapes and é 字 😀"',
      '0',
      '-0',
      'null',
      '{"nested":{"a":[{"b":[[]]},{}]}}',
      '[[[[[[[[[[1]]]]]]]]]]',
    ]) {
      assert.equal(ok(text), true, text);
    }
  });

  test('refuses garbage: the issue example, HTML, truncation, trailing bytes', () => {
    for (const text of [
      '{"items": [1, 2, nope]]]}} <html>',
      '<!doctype html><html><body>Bad gateway</body></html>',
      '{"a": 1',
      '{"a": 1}}',
      '{"a": 1} x',
      '[1, 2,]',
      '{"a": 1,}',
      '{a: 1}',
      "{'a': 1}",
      '{"a" 1}',
      '[1 2]',
      '',
      '   ',
      '01',
      '1.',
      '.5',
      '+1',
      '1e',
      '-',
      'tru',
      'nulls',
      'NaN',
      'Infinity',
      '"unterminated',
      '"bad escape \\x"',
      '"bad unicode \\u12g4"',
      '"raw\ncontrol"',
      '\ufeff{}',
      '{}{}',
    ]) {
      assert.equal(ok(text), false, JSON.stringify(text));
    }
  });

  test('refuses bytes that are not UTF-8', () => {
    assert.equal(ok(Buffer.from([0x22, 0xff, 0xfe, 0x22])), false);
    assert.deepEqual(scanJson(Buffer.from([0x22, 0xc3, 0x22])), { offset: 0, reason: 'not UTF-8' });
  });

  test('names the offset of the fault', () => {
    assert.deepEqual(scanJson(Buffer.from('[1, 2, nope]')), { offset: 8, reason: 'unexpected byte' });
    assert.deepEqual(scanJson(Buffer.from('{"a": [1')), { offset: 8, reason: 'unexpected end' });
  });

  test('bounds the nesting depth', () => {
    const deep = (n: number): Buffer => Buffer.from('['.repeat(n) + ']'.repeat(n));
    assert.equal(isWellFormedJson(deep(512)), true);
    assert.equal(isWellFormedJson(deep(513)), false);
    assert.equal(isWellFormedJson(deep(100_000)), false);
    assert.equal(isWellFormedJson(deep(20), 10), false);
  });

  test('agrees with JSON.parse on generated JSON and on mutated JSON (fixed seed)', () => {
    const agree = (text: string): void => {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      assert.equal(ok(text), parses, JSON.stringify(text));
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => agree(JSON.stringify(value))),
      { seed: 14, numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', ' ', ',', ']', '}', '"', '\\', 'x', '0', '-', '.', 'e', ':', '\u0001'),
        (text, at, insert) => {
          const position = text.length === 0 ? 0 : at % (text.length + 1);
          agree(text.slice(0, position) + insert + text.slice(position));
        },
      ),
      { seed: 14, numRuns: 2000 },
    );
  });
});
