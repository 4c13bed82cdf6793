/**
 * Request headers of HTTP exchanges: static headers checked once at load (names and values undici
 * would refuse, headers the transport or the connector sets), and each call's headers merged from
 * the static ones, the propagated ones and input.headers, refusing values that would split a header.
 */
import type { ConnectorIssue } from '../../contracts/connector.ts';
import { internal, type OperationExtras } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { where } from './exchange-errors.ts';

/** Headers as sent: names lowercased. */
export type OutgoingHeaders = Record<string, string | string[]>;

/** What a connector decides at load about the headers of its calls. */
export interface HeaderRules {
  /** Headers the connector sets itself (content-type, soapaction…): refused in config and input. */
  readonly managed: ReadonlySet<string>;
  /** Whether input header names are checked here (else undici refuses bad ones when sending). */
  readonly checkInputNames: boolean;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What undici accepts in a header value: tab, visible ASCII and obs-text. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const HEADER_BREAK = /[\r\n\0]/;
/** Headers undici computes itself or refuses; setting them statically can only break calls. */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Lowercases and checks static headers, reporting names and values undici would refuse at call
 * time, and headers the connector sets itself (`managed`).
 */
export function compileHeaders(
  headers: Record<string, string> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
  managed: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const compiled: Record<string, string> = {};
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      issues.push({ path: [...path, name], message: `"${name}" is not a valid header name` });
    } else if (TRANSPORT_HEADERS.has(lower) || managed.has(lower)) {
      issues.push({ path: [...path, name], message: `header "${lower}" is set by the connector; remove it` });
    } else if (INVALID_HEADER_VALUE.test(value)) {
      issues.push({
        path: [...path, name],
        message: `header "${lower}" has a control character (CR, LF, NUL…) in its value`,
      });
    } else {
      compiled[lower] = value;
    }
  }
  return compiled;
}

/**
 * Static headers, then the propagated ones, then input.headers (names lowercased, later ones
 * winning); managed names are the connector's and refused as input, and so is host: only the
 * config decides where a call goes, including the virtual host.
 */
export function buildHeaders(
  staticHeaders: Readonly<Record<string, string>>,
  propagated: Record<string, string>,
  inputHeaders: unknown,
  extras: OperationExtras,
  rules: HeaderRules,
): OutgoingHeaders {
  const headers: OutgoingHeaders = { ...staticHeaders };
  const managed = rules.managed;
  for (const name of Object.keys(propagated)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || managed.has(lower)) continue;
    headers[lower] = propagated[name]!;
  }
  if (inputHeaders === undefined || inputHeaders === null) return headers;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(extras, `${where(extras)}: input.headers must be an object`);
  }
  const record = inputHeaders as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      throw internal(
        extras,
        `${where(extras)}: input header "host" is not allowed; the service url decides the host`,
      );
    }
    if (managed.has(lower)) {
      throw internal(
        extras,
        `${where(extras)}: input header "${lower}" is not allowed; the connector sets it`,
      );
    }
    if (rules.checkInputNames && !HEADER_NAME.test(name)) {
      throw internal(extras, `${where(extras)}: input header "${name}" is not a valid header name`);
    }
    headers[lower] = headerValue(extras, lower, value);
  }
  return headers;
}

function headerValue(extras: OperationExtras, name: string, value: unknown): string | string[] {
  if (typeof value === 'string') {
    // A line break would split the header (request smuggling); such values come from request data.
    if (HEADER_BREAK.test(value)) {
      throw new ChorusError(
        'CHORUS_VALIDATION_FAILED',
        `header "${name}" for ${extras.service}.${extras.operation} contains a line break`,
        { extras: { ...extras, errors: [{ field: `headers.${name}`, message: 'contains a line break' }] } },
      );
    }
    return value;
  }
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    return value.map(String);
  }
  throw internal(extras, `${where(extras)}: input header "${name}" must be a string or a number`);
}

/** The content type of an answer, if it has exactly one. */
export function contentTypeOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['content-type'];
  return typeof value === 'string' ? value : undefined;
}
