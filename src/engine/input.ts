/**
 * Request input validation, compiled once per endpoint with Ajv (JSON Schema 2020-12). Path,
 * query and header parameters are converted from text to their declared types; the body is
 * checked against its schema as it is.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { EndpointConfig, ParameterConfig } from '../config/schema.ts';
import { ChorusError } from '../errors/catalogue.ts';

/** The parts of a request an endpoint reads, before validation. */
export interface RawInput {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Validates and converts a request's input; throws CHORUS_VALIDATION_FAILED naming each field. */
export type InputValidator = (raw: RawInput) => void;

// Two Ajvs for parameters (text → declared types) and two for bodies (no coercion: JSON has
// types): one stops at the first error, one collects every error. Every input is checked by the
// first; only a small input that failed it is checked again by the second, to name each field.
// So the work done is bounded by the input's size, however many errors a large input has.
const parameterOptions = { coerceTypes: true, useDefaults: true, strict: false } as const;
const parameterAjv = {
  first: new Ajv2020(parameterOptions),
  all: new Ajv2020({ ...parameterOptions, allErrors: true }),
};
const bodyAjv = {
  first: new Ajv2020({ strict: false }),
  all: new Ajv2020({ strict: false, allErrors: true }),
};

/** Most values (object members, array items, scalars) an input may have for every error to be sought. */
export const ALL_ERRORS_MAX_NODES = 2_000;
/** Largest body (by its content-length) for which every error is sought. */
export const ALL_ERRORS_MAX_BYTES = 16 * 1024;
/** Most errors a problem lists; the rest are counted (`moreErrors`). */
export const MAX_REPORTED_ERRORS = 10;
/** Longest field name or message a problem repeats (a key may be as long as the body). */
const MAX_TEXT = 200;

function parameterToSchema(parameter: ParameterConfig): Record<string, unknown> {
  const schema: Record<string, unknown> = { type: parameter.type };
  for (const key of ['enum', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'default'] as const) {
    if (parameter[key] !== undefined) schema[key] = parameter[key];
  }
  return schema;
}

function objectSchema(
  parameters: Record<string, ParameterConfig>,
  alwaysRequired: boolean,
  lowerCaseNames: boolean,
): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [rawName, parameter] of Object.entries(parameters)) {
    const name = lowerCaseNames ? rawName.toLowerCase() : rawName;
    properties[name] = parameterToSchema(parameter);
    if (alwaysRequired || parameter.required === true) required.push(name);
  }
  return { type: 'object', properties, required };
}

interface Failure {
  field: string;
  message: string;
}

function describeErrors(part: string, errors: readonly ErrorObject[]): Failure[] {
  return errors.map((error) => {
    const missing =
      error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : '';
    const pointer = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = [part, pointer, missing].filter(Boolean).join('.');
    const message =
      error.keyword === 'required'
        ? 'is required'
        : error.keyword === 'enum'
          ? `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
          : (error.message ?? 'is invalid');
    return { field: clip(field), message: clip(message) };
  });
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}…`;
}

/**
 * Whether a value has at most `limit` values in it, walking no further than that: an array's
 * length is read at once; an object's members are counted as they are enumerated, stopping at
 * the limit (enumerating a 50,000-key object still costs V8 some 10 ms, hence the byte test first).
 */
export function smallerThan(value: unknown, limit: number): boolean {
  const pending: unknown[] = [value];
  let count = 0;
  while (pending.length > 0) {
    const next = pending.pop();
    if (++count > limit) return false;
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      if (count + pending.length + next.length > limit) return false;
      for (const item of next) pending.push(item);
      continue;
    }
    for (const key in next) {
      if (count + pending.length >= limit) return false;
      pending.push((next as Record<string, unknown>)[key]);
    }
  }
  return true;
}

/** Whether every error of a part is sought: a body of a known, small length, else a small value. */
function small(part: keyof RawInput, value: unknown, raw: RawInput): boolean {
  if (part === 'body') {
    const declared = raw.headers['content-length'];
    if (typeof declared === 'string' && declared !== '') {
      const bytes = Number(declared);
      if (Number.isSafeInteger(bytes)) return bytes <= ALL_ERRORS_MAX_BYTES;
    }
  }
  return smallerThan(value, ALL_ERRORS_MAX_NODES);
}

/** The errors of one part: every one for a small input, else the first (and whether more were sought). */
function partErrors(check: Check, raw: RawInput): { failures: Failure[]; complete: boolean } | undefined {
  const value = raw[check.part];
  if (check.first(value)) return undefined;
  if (small(check.part, value, raw)) {
    check.all(value);
    return {
      failures: describeErrors(check.part, check.all.errors ?? check.first.errors ?? []),
      complete: true,
    };
  }
  return { failures: describeErrors(check.part, check.first.errors ?? []), complete: false };
}

interface Check {
  part: keyof RawInput;
  first: ValidateFunction;
  all: ValidateFunction;
}

/** The validation error: at most MAX_REPORTED_ERRORS fields named, the rest counted. */
function validationError(failures: Failure[], complete: boolean): ChorusError {
  const reported = failures.slice(0, MAX_REPORTED_ERRORS);
  const more = failures.length - reported.length;
  let summary = reported.map((failure) => `${failure.field} ${failure.message}`).join('; ');
  if (more > 0) summary += ` (and ${more} more)`;
  if (!complete) summary += ' (validation stopped at the first error of a large input)';
  const extras: Record<string, unknown> = { errors: reported };
  if (more > 0) extras.moreErrors = more;
  if (!complete) extras.errorsComplete = false;
  return new ChorusError('CHORUS_VALIDATION_FAILED', summary, { extras });
}

/** Where the compiled validators come from; returned issues are schema errors found at load. */
export function compileInputValidator(endpoint: EndpointConfig): {
  validate: InputValidator;
  issues: string[];
} {
  const issues: string[] = [];
  const input = endpoint.input ?? {};
  const checks: Check[] = [];
  const add = (part: keyof RawInput, ajv: typeof bodyAjv, schema: Record<string, unknown>) => {
    try {
      checks.push({ part, first: ajv.first.compile(schema), all: ajv.all.compile(schema) });
    } catch (error) {
      issues.push(`input.${part}: ${(error as Error).message}`);
    }
  };
  if (input.params && Object.keys(input.params).length > 0)
    add('params', parameterAjv, objectSchema(input.params, true, false));
  if (input.query && Object.keys(input.query).length > 0)
    add('query', parameterAjv, objectSchema(input.query, false, false));
  if (input.headers && Object.keys(input.headers).length > 0) {
    add('headers', parameterAjv, objectSchema(input.headers, false, true));
  }
  if (input.body) add('body', bodyAjv, input.body);
  if (checks.length === 0) return { validate: () => {}, issues };
  const validate: InputValidator = (raw) => {
    const failures: Failure[] = [];
    let complete = true;
    for (const check of checks) {
      if (check.part === 'body' && raw.body === undefined) {
        failures.push({ field: 'body', message: 'is required' });
        continue;
      }
      const found = partErrors(check, raw);
      if (found === undefined) continue;
      failures.push(...found.failures);
      complete &&= found.complete;
    }
    if (failures.length > 0) throw validationError(failures, complete);
  };
  return { validate, issues };
}
