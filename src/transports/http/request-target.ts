/**
 * The request target (path and query) of connectors that call HTTP operations declared as
 * `path: /items/{id}` plus a static `query`: parsed once at load, filled per call with values
 * percent-encoded so request data can never add segments, walk the path or inject a query.
 */

import { type PlaceholderTemplate, parsePlaceholders } from '../../config/placeholder-template.ts';
import type { ConnectorInput } from '../../contracts/connector.ts';
import { internal, type OperationExtras } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';

const PATH_LITERAL = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/** What a compiled operation holds for building its request target. */
export interface TargetTemplate {
  readonly name: string;
  readonly extras: OperationExtras;
  readonly literals: readonly string[];
  readonly params: readonly string[];
  /** The operation's static query, already encoded ("" for none). */
  readonly staticQuery: string;
}

/** Splits `/users/{id}/posts` into literal parts and placeholder names, or says what is wrong. */
export function parsePathTemplate(path: string): PlaceholderTemplate | string {
  const parsed = parsePlaceholders(path, `path "${path}"`);
  if (typeof parsed === 'string') return parsed;
  const { literals } = parsed;
  for (const literal of literals) {
    if (!PATH_LITERAL.test(literal)) {
      return `path "${path}" has characters that must be percent-encoded (spaces, "?", "#", non-ASCII); put query parameters under "query"`;
    }
  }
  return parsed;
}

/** Encodes an operation's static query once, at load. */
export function encodeStaticQuery(query: Record<string, string> | undefined): string {
  if (query === undefined) return '';
  return Object.entries(query)
    .map(([key, value]) => encodeURIComponent(key) + '=' + encodeURIComponent(value))
    .join('&');
}

/** Fills the path template with input.params, encoded; refuses values that would escape their segment. */
export function buildPath(op: TargetTemplate, params: ConnectorInput['params']): string {
  const names = op.params;
  let path = op.literals[0]!;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const value = params === undefined || params === null ? undefined : params[name];
    path += encodePathValue(op, name, value) + op.literals[index + 1]!;
  }
  return path;
}

function encodePathValue(op: TargetTemplate, name: string, value: unknown): string {
  const text = scalarText(value);
  if (text === undefined) {
    const problem = value === undefined || value === null ? 'is missing' : 'is not a string or number';
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": path param "${name}" ${problem} in input.params`,
    );
  }
  // An empty segment would silently call another resource (DELETE /users/ instead of /users/42), and
  // "." or ".." would walk the path: URL parsers treat even %2E%2E as "..". Such values come from
  // request data in practice, so they are the client's error.
  if (text === '' || text === '.' || text === '..') {
    const shown = text === '' ? 'empty' : `"${text}"`;
    throw new ChorusError(
      'CHORUS_VALIDATION_FAILED',
      `path parameter "${name}" of ${op.extras.service}.${op.name} cannot be ${shown}`,
      { extras: { ...op.extras, errors: [{ field: `params.${name}`, message: `cannot be ${shown}` }] } },
    );
  }
  return encodeText(op, text, `path param "${name}"`);
}

/** Appends the static query, then input.query (scalars or arrays of scalars; null and undefined skipped). */
export function appendQuery(path: string, op: TargetTemplate, query: unknown): string {
  let search = op.staticQuery;
  if (query !== undefined && query !== null) {
    if (typeof query !== 'object' || Array.isArray(query)) {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input.query must be an object`,
      );
    }
    const record = query as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (Array.isArray(value)) {
        for (const item of value) search = appendPair(search, op, key, item);
      } else {
        search = appendPair(search, op, key, value);
      }
    }
  }
  return search === '' ? path : path + '?' + search;
}

function appendPair(search: string, op: TargetTemplate, key: string, value: unknown): string {
  if (value === undefined || value === null) return search;
  const text = scalarText(value);
  if (text === undefined) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": query "${key}" must be a scalar or an array of scalars`,
    );
  }
  const pair = encodeText(op, key, `query "${key}"`) + '=' + encodeText(op, text, `query "${key}"`);
  return search === '' ? pair : search + '&' + pair;
}

/** The text of a string, number or boolean; undefined for anything else. */
export function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

/** encodeURIComponent, whose URIError (lone surrogates) becomes a coded error. */
function encodeText(op: TargetTemplate, text: string, what: string): string {
  try {
    return encodeURIComponent(text);
  } catch (error) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": ${what} is not well-formed unicode`,
      error,
    );
  }
}

/** Builds the path and query of one call. */
export function requestTarget(op: TargetTemplate, input: ConnectorInput): string {
  return appendQuery(buildPath(op, input.params), op, input.query);
}
