/**
 * The operations of a `nats` service, compiled once at load: each subject split around its
 * placeholders and checked, the service and operation headers checked and merged, and the
 * descriptions the portal and the load-time checks read.
 */

import { type PlaceholderTemplate, parsePlaceholders } from '../../config/placeholder-template.ts';
import type { ConnectorIssue, OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import type { NatsOperationConfig, NatsServiceConfig } from './schema.ts';

/** A subject: dot-separated non-empty tokens, no whitespace or control characters, no wildcards. */
const SUBJECT = /^[^\s\p{Cc}.*>]+(?:\.[^\s\p{Cc}.*>]+)*$/u;
/** NATS header names: visible ASCII except ':' (what the client accepts). */
export const HEADER_NAME = /^[!-9;-~]+$/;
export const INVALID_HEADER_VALUE = /[\r\n\0]/;

/** One operation with everything its calls need precomputed. */
export interface NatsOperation {
  readonly name: string;
  readonly mode: NatsOperationConfig['mode'];
  readonly json: boolean;
  /** Literal subject pieces around the placeholders; one more entry than `params`. */
  readonly literals: readonly string[];
  readonly params: readonly string[];
  /** Service and operation headers merged, as [name, value] pairs. */
  readonly headers: readonly (readonly [string, string])[];
  readonly extras: OperationExtras;
}

/** The compiled operations by name, and their descriptions. */
export interface NatsOperations {
  readonly operations: ReadonlyMap<string, NatsOperation>;
  readonly descriptions: readonly OperationDescription[];
}

/** Compiles every operation of the service; problems go to `issues`. */
export function compileOperations(
  config: NatsServiceConfig,
  service: string,
  issues: ConnectorIssue[],
): NatsOperations {
  const serviceHeaders = compileHeaders(config.headers, ['headers'], issues);
  const operations = new Map<string, NatsOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const template = parseSubjectTemplate(operation.subject);
    if (typeof template === 'string') {
      issues.push({ path: ['operations', name, 'subject'], message: template });
      continue;
    }
    const operationHeaders = compileHeaders(operation.headers, ['operations', name, 'headers'], issues);
    operations.set(name, {
      name,
      mode: operation.mode,
      json: operation.payload === 'json',
      literals: template.literals,
      params: template.params,
      headers: Object.freeze(mergeHeaders(serviceHeaders, operationHeaders)),
      extras: Object.freeze({ service, operation: name }),
    });
    descriptions.push(describeOperation(name, operation, template));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}

function describeOperation(
  name: string,
  operation: NatsOperationConfig,
  template: PlaceholderTemplate,
): OperationDescription {
  const description: OperationDescription = {
    name,
    requiredParams: Object.freeze([...new Set(template.params)]),
    // A message may be handled twice if it is sent twice: never retried unless declared.
    idempotent: false,
    subject: operation.subject,
    mode: operation.mode,
  };
  if (operation.summary !== undefined) description.summary = operation.summary;
  return Object.freeze(description);
}

/** Splits a subject into literal pieces and {name} placeholders, and checks it is a valid subject. */
function parseSubjectTemplate(subject: string): PlaceholderTemplate | string {
  const parsed = parsePlaceholders(subject, `subject "${subject}"`);
  if (typeof parsed === 'string') return parsed;
  const { literals } = parsed;
  // Checked with every placeholder standing for one token: values are checked the same way per call.
  if (!SUBJECT.test(literals.join('x'))) {
    return `subject "${subject}" is not a valid subject: dot-separated tokens without spaces, and no wildcards (* or >)`;
  }
  return parsed;
}

/** Checks static headers and returns them as [name, value] pairs. */
function compileHeaders(
  headers: Record<string, string> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
): [string, string][] {
  const compiled: [string, string][] = [];
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      issues.push({ path: [...path, name], message: `"${name}" is not a valid NATS header name` });
    } else if (INVALID_HEADER_VALUE.test(value)) {
      issues.push({
        path: [...path, name],
        message: `header "${name}" has a control character (CR, LF, NUL) in its value`,
      });
    } else compiled.push([name, value]);
  }
  return compiled;
}

/** Operation headers after the service's, a later name replacing an earlier one whatever its case. */
function mergeHeaders(
  service: readonly [string, string][],
  operation: readonly [string, string][],
): [string, string][] {
  const merged = new Map<string, [string, string]>();
  for (const pair of [...service, ...operation]) merged.set(pair[0].toLowerCase(), pair);
  return [...merged.values()];
}
