/** The body of an `http` call: JSON from input.body, or a string sent as it is under a content type. */
import type { ConnectorInput } from '../../contracts/connector.ts';
import { internal } from '../../errors/call-errors.ts';
import type { OutgoingHeaders } from '../../transports/http/headers.ts';
import type { CompiledOperation } from './operations.ts';

/**
 * input.body as JSON, unless input.headers set a content type and the body is a string: then the
 * string is sent as it is (XML, form data…). A configured content type is kept for JSON bodies
 * (e.g. application/merge-patch+json); without one it is application/json.
 */
export function buildBody(
  op: CompiledOperation,
  input: ConnectorInput,
  headers: OutgoingHeaders,
): string | null {
  const body = input.body;
  if (body === undefined) return null;
  // A string body with a content type (from input.headers or the config) is sent as it is.
  if (typeof body === 'string' && (hasContentType(input.headers) || headers['content-type'] !== undefined)) {
    return body;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.body cannot be serialised as JSON`,
      error,
    );
  }
  if (json === undefined) return null;
  headers['content-type'] ??= 'application/json';
  return json;
}

function hasContentType(inputHeaders: unknown): boolean {
  if (typeof inputHeaders !== 'object' || inputHeaders === null) return false;
  for (const name of Object.keys(inputHeaders)) {
    if (name.toLowerCase() === 'content-type') {
      const value = (inputHeaders as Record<string, unknown>)[name];
      return value !== undefined && value !== null;
    }
  }
  return false;
}
