import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { readConfigFast } from './fast-yaml.ts';

/** What the full path reads (the `yaml` library, as load.ts calls it). */
function readFull(text: string): unknown {
  return parse(text, { uniqueKeys: true, maxAliasCount: 100 });
}

describe('the fast config reader', () => {
  it('reads every core-schema scalar as the yaml library does', () => {
    const scalars = [
      '1',
      '-1',
      '+1',
      '0x1F',
      '0o17',
      '017',
      '0b101',
      '1_000',
      '1.5',
      '1e3',
      '.inf',
      '-.Inf',
      '.nan',
      'true',
      'True',
      'TRUE',
      'yes',
      'no',
      'on',
      'off',
      'y',
      'n',
      'null',
      'Null',
      '~',
      '',
      '2001-12-14',
      '12:30:45',
      '1:20',
      '"1"',
      "'x'",
      '0.',
      '.5',
      '+.5',
      '1.2.3',
      '0',
      '00',
      '-0',
      '1e',
      '<<',
      'NULL',
      'tRue',
      '0xG',
      '190:20:30',
      '"a\\tb"',
      "'it''s'",
      '10s',
      '1mb',
      '"{{ steps.a }}"',
      '/items/{id}',
    ];
    for (const scalar of scalars) {
      const text = `value: ${scalar}\n`;
      const fast = readConfigFast(text);
      assert.ok(fast, `fast path taken for ${scalar}`);
      assert.deepEqual(fast, readFull(text), `value: ${scalar}`);
    }
  });

  it('reads what the yaml library writes exactly as the yaml library reads it', () => {
    const key = fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => k !== '__proto__' && k !== '[object Object]');
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(fc.dictionary(key, tree.node, { minKeys: 1, maxKeys: 5 }), fc.boolean(), (config, flow) => {
        const text = stringify(config, { collectionStyle: flow ? 'flow' : 'block' });
        const fast = readConfigFast(text);
        // Declining is always allowed (the full path then reads it); reading differently is not.
        if (fast !== undefined) assert.deepEqual(fast, readFull(text));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves to the full path what only it handles', () => {
    const declined = {
      'an environment reference': 'port: ${env.PORT:-8080}\n',
      'an anchor and alias': 'a: &x { b: 1 }\nc: *x\n',
      'a map as a key': 'response:\n  {{ steps.a }}: 1\n',
      'a list as a key': '[a, b]: 1\n',
      'an explicit key': '? a\n: 1\n',
      'a __proto__ key': '__proto__: { polluted: true }\n',
      'a duplicate key': 'a: 1\na: 2\n',
      'a syntax error': 'a: [1, 2\n',
      'a list at the top': '- a\n',
      'an empty file': '',
    };
    for (const [what, text] of Object.entries(declined)) {
      assert.equal(readConfigFast(text), undefined, what);
    }
  });
});
