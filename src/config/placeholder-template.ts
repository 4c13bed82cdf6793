/**
 * `{name}` placeholders in connector config strings (HTTP paths, NATS subjects, AMQP routing
 * keys): split once at load into literal pieces and parameter names, filled per call.
 */

/** A string with `{name}` placeholders, split: literals[0] params[0] literals[1] … literals[n]. */
export interface PlaceholderTemplate {
  literals: string[];
  params: string[];
}

const PLACEHOLDER_NAME = /^[A-Za-z_][\w-]*$/;

/**
 * Splits `text` into literal pieces and placeholder names, or says what is wrong; `what` names the
 * string in messages (e.g. 'path "/users/{id}"').
 */
export function parsePlaceholders(text: string, what: string): PlaceholderTemplate | string {
  const literals: string[] = [];
  const params: string[] = [];
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '}')
      return `${what} has a "}" without "{" at position ${index}; placeholders look like {name}`;
    if (char !== '{') continue;
    const end = text.indexOf('}', index + 1);
    if (end === -1) return `${what} has an unclosed "{" at position ${index}; placeholders look like {name}`;
    const name = text.slice(index + 1, end);
    if (!PLACEHOLDER_NAME.test(name)) {
      return `${what} has an invalid placeholder "{${name}}": names are letters, digits, _ and -, starting with a letter or _`;
    }
    literals.push(text.slice(start, index));
    params.push(name);
    start = end + 1;
    index = end;
  }
  literals.push(text.slice(start));
  return { literals, params };
}
