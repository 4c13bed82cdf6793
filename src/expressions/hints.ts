/**
 * Hints for the mistakes people make most when writing CEL after JavaScript, JSONPath or
 * JSONata: the parser's own message says what it found, the hint says what to write instead.
 */

/** One known mistake: how to see it in the source (and the message), and what to say. */
interface Mistake {
  readonly test: (source: string, message: string) => boolean;
  readonly hint: (source: string) => string;
}

/**
 * The parser's complaint about a character, in cel-js's words or in the plain words cel.ts turns
 * them into (plainCelMessage), so a hint is found whichever message it is given.
 */
function badCharacter(message: string, character: string): boolean {
  return (
    message.includes(`Unexpected character: ${character}`) ||
    message.includes(`Unexpected character: '${character}'`) ||
    message.includes(`the character '${character}' is not allowed here`)
  );
}

const MISTAKES: readonly Mistake[] = [
  {
    // x.?['@dir'] / x.?[0]: the optional index is x[?'@dir'].
    test: (source) => /\.\?\s*\[/.test(source),
    hint: (source) => {
      const fixed = source.replace(/\.\?\s*\[/g, '[?');
      return `an optional index is written map[?'key'] (or list[?0]), not map.?['key']: ${fixed}`;
    },
  },
  {
    test: (source, message) => badCharacter(message, '=') && /=>/.test(source),
    hint: () => 'CEL has no arrow functions: write list.map(x, x.price), list.filter(x, x.ok)',
  },
  {
    test: (source, message) => badCharacter(message, '=') && /(^|[^=!<>])=([^=]|$)/.test(source),
    hint: () => 'compare with == (a single = is not an operator in CEL)',
  },
  {
    test: (source, message) => /Unknown variable: (nil|undefined|None)\b/.test(message) && source.length > 0,
    hint: () => 'the missing value is written null',
  },
  {
    test: (source) => /\s(and|or)\s/.test(source) && !/['"]/.test(source),
    hint: () => 'logic is written && and || (and, or are not CEL operators)',
  },
  {
    test: (_source, message) => /no matching overload for 'len\(|no function matches len\(/.test(message),
    hint: () => 'the length of a list, map or string is size(x)',
  },
  {
    test: (_source, message) =>
      /(no such overload|cannot combine these types): (string \+ (int|double)|(int|double) \+ string)/.test(
        message,
      ),
    hint: () => "convert first: 'n=' + string(x)",
  },
  {
    test: (_source, message) => badCharacter(message, '`'),
    hint: () => 'strings are in \'single\' or "double" quotes; build text with +',
  },
];

/** A hint for a compile error of `source`, or undefined when it is not a known mistake. */
export function expressionHint(source: string, message: string): string | undefined {
  for (const mistake of MISTAKES) if (mistake.test(source, message)) return mistake.hint(source);
  return undefined;
}
