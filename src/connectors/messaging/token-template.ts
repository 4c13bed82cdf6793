/**
 * Subjects (nats) and routing keys (amqp) with `{name}` placeholders, split at load by
 * placeholder-template.ts and filled per call. Every value fills exactly one token: one that
 * would add tokens or a wildcard could send the message somewhere else.
 */
import type { ConnectorInput } from '../../contracts/connector.ts';
import { internal, type OperationExtras } from '../../errors/call-errors.ts';
import { invalidValue } from './broker-errors.ts';

/** An operation's address split at load: literals[0] params[0] literals[1] … literals[n]. */
export interface TokenTemplate {
  readonly literals: readonly string[];
  readonly params: readonly string[];
  readonly extras: OperationExtras;
}

/** What a kind of address accepts as a token. */
export interface TokenRules {
  /** The address in messages: 'subject' or 'routing key'. */
  readonly what: string;
  /** What a filled-in value may not contain. */
  readonly unsafe: RegExp;
  /** What is said of a value that contains it. */
  readonly unsafeProblem: string;
}

/** The address of one call: the template with each placeholder replaced by its input.params value. */
export function fillTokens(op: TokenTemplate, params: ConnectorInput['params'], rules: TokenRules): string {
  const names = op.params;
  let text = op.literals[0]!;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const value = params === undefined || params === null ? undefined : params[name];
    text += token(op.extras, name, value, rules) + op.literals[index + 1]!;
  }
  return text;
}

function token(extras: OperationExtras, name: string, value: unknown, rules: TokenRules): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
  if (text === undefined) {
    const problem = value === undefined || value === null ? 'is missing' : 'is not a string or number';
    throw internal(
      extras,
      `operation "${extras.operation}" of service "${extras.service}": ${rules.what} param "${name}" ${problem} in input.params`,
    );
  }
  // Such values come from request data: the client's error.
  if (text === '' || rules.unsafe.test(text)) {
    const problem = text === '' ? 'cannot be empty' : rules.unsafeProblem;
    throw invalidValue(extras, `params.${name}`, problem, `${rules.what} parameter "${name}"`);
  }
  return text;
}
