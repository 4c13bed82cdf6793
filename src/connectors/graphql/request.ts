/** The request of a `graphql` call: the JSON body with its variables, and headers (the body is always JSON). */
import { internal } from '../../errors/call-errors.ts';
import type { CompiledOperation } from './operations.ts';

/** Headers a GraphQL request always carries besides the service's. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
});

/** The request body: the compiled prefix, then input.variables as JSON. */
export function buildBody(op: CompiledOperation, variables: unknown): string {
  if (variables === undefined || variables === null) return op.bodyPrefix + '{}}';
  if (typeof variables !== 'object' || Array.isArray(variables)) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.variables must be a map`,
    );
  }
  let json: string;
  try {
    json = JSON.stringify(variables);
  } catch (error) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.variables cannot be serialised as JSON`,
      error,
    );
  }
  return op.bodyPrefix + json + '}';
}

/** input.headers, less any content type: the body is always JSON. The transport checks the rest. */
export function inputHeaders(op: CompiledOperation, headers: unknown): Record<string, unknown> {
  if (headers === undefined || headers === null) return JSON_HEADERS;
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.headers must be a map`,
    );
  }
  const kept: Record<string, unknown> = {};
  const record = headers as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (name.toLowerCase() !== 'content-type') kept[name] = record[name];
  }
  kept['content-type'] = 'application/json';
  return kept;
}
