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

// One Ajv for parameters (text → declared types) and one for bodies (no coercion: JSON has types).
const parameterAjv = new Ajv2020({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });
const bodyAjv = new Ajv2020({ allErrors: true, strict: false });

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

function describeErrors(part: string, errors: readonly ErrorObject[]): { field: string; message: string }[] {
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
    return { field, message };
  });
}

/** Where the compiled validators come from; returned issues are schema errors found at load. */
export function compileInputValidator(endpoint: EndpointConfig): {
  validate: InputValidator;
  issues: string[];
} {
  const issues: string[] = [];
  const input = endpoint.input ?? {};
  const checks: { part: keyof RawInput; validate: ValidateFunction }[] = [];
  const add = (part: keyof RawInput, ajv: Ajv2020, schema: Record<string, unknown>) => {
    try {
      checks.push({ part, validate: ajv.compile(schema) });
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
    let failures: { field: string; message: string }[] | undefined;
    for (const check of checks) {
      if (check.part === 'body' && raw.body === undefined) {
        failures = [...(failures ?? []), { field: 'body', message: 'is required' }];
        continue;
      }
      if (!check.validate(raw[check.part])) {
        failures = [...(failures ?? []), ...describeErrors(check.part, check.validate.errors ?? [])];
      }
    }
    if (failures) {
      const summary = failures.map((failure) => `${failure.field} ${failure.message}`).join('; ');
      throw new ChorusError('CHORUS_VALIDATION_FAILED', summary, { extras: { errors: failures } });
    }
  };
  return { validate, issues };
}
