/**
 * The operations of an `amqp` service, compiled once at load: each routing key split around its
 * placeholders and checked, the service and operation headers checked and merged, the publish
 * options fixed, and the descriptions the portal and the load-time checks read.
 */

import { type PlaceholderTemplate, parsePlaceholders } from '../../config/placeholder-template.ts';
import type { ConnectorIssue, OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import type { AmqpOperationConfig, AmqpServiceConfig } from './schema.ts';

/** AMQP short strings (routing keys, header names) hold at most 255 bytes. */
export const MAX_SHORT_STRING = 255;

export type HeaderValue = string | number | boolean;

/** One operation with everything its calls need precomputed. */
export interface AmqpOperation {
  readonly name: string;
  readonly mode: AmqpOperationConfig['mode'];
  readonly exchange: string;
  /** Literal routing key pieces around the placeholders; one more entry than `params`. */
  readonly literals: readonly string[];
  readonly params: readonly string[];
  readonly json: boolean;
  readonly contentType: string;
  readonly persistent: boolean;
  readonly mandatory: boolean;
  /** Service and operation headers merged. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly extras: OperationExtras;
}

/** The compiled operations by name, and their descriptions. */
export interface AmqpOperations {
  readonly operations: ReadonlyMap<string, AmqpOperation>;
  readonly descriptions: readonly OperationDescription[];
}

/** Compiles every operation of the service; problems go to `issues`. */
export function compileOperations(
  config: AmqpServiceConfig,
  service: string,
  issues: ConnectorIssue[],
): AmqpOperations {
  const serviceHeaders = compileHeaders(config.headers, ['headers'], issues);
  const operations = new Map<string, AmqpOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const template = parseKeyTemplate(operation.routingKey);
    if (typeof template === 'string') {
      issues.push({ path: ['operations', name, 'routingKey'], message: template });
      continue;
    }
    if (operation.mode === 'rpc' && operation.mandatory === false) {
      issues.push({
        path: ['operations', name, 'mandatory'],
        message: 'rpc requests are always mandatory (an unroutable request fails at once); remove mandatory',
      });
    }
    const operationHeaders = compileHeaders(operation.headers, ['operations', name, 'headers'], issues);
    operations.set(name, {
      name,
      mode: operation.mode,
      exchange: operation.exchange,
      literals: template.literals,
      params: template.params,
      json: operation.contentType === 'application/json',
      contentType: operation.contentType,
      persistent: operation.persistent,
      mandatory: operation.mode === 'rpc' || operation.mandatory === true,
      headers: Object.freeze({ ...serviceHeaders, ...operationHeaders }),
      extras: Object.freeze({ service, operation: name }),
    });
    descriptions.push(describeOperation(name, operation, template));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}

function describeOperation(
  name: string,
  operation: AmqpOperationConfig,
  template: PlaceholderTemplate,
): OperationDescription {
  const description: OperationDescription = {
    name,
    requiredParams: Object.freeze([...new Set(template.params)]),
    // A message may be handled twice if it is sent twice: never retried unless declared.
    idempotent: false,
    mode: operation.mode,
    exchange: operation.exchange,
    routingKey: operation.routingKey,
  };
  if (operation.summary !== undefined) description.summary = operation.summary;
  return Object.freeze(description);
}

/** Splits a routing key into literal pieces and {name} placeholders. */
function parseKeyTemplate(key: string): PlaceholderTemplate | string {
  const parsed = parsePlaceholders(key, `routing key "${key}"`);
  if (typeof parsed === 'string') return parsed;
  const { literals } = parsed;
  if (literals.some((literal) => /[\s\p{Cc}]/u.test(literal))) {
    return `routing key "${key}" has whitespace or control characters`;
  }
  if (Buffer.byteLength(literals.join('')) > MAX_SHORT_STRING) {
    return `routing key "${key}" is longer than ${MAX_SHORT_STRING} bytes`;
  }
  return parsed;
}

function compileHeaders(
  headers: Record<string, HeaderValue> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
): Record<string, HeaderValue> {
  const compiled: Record<string, HeaderValue> = {};
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    if (Buffer.byteLength(name) > MAX_SHORT_STRING) {
      issues.push({ path: [...path, name], message: `header names hold at most ${MAX_SHORT_STRING} bytes` });
    } else compiled[name] = value;
  }
  return compiled;
}
