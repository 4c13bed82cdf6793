/** The body of an `xml` call: input.body written as XML, or a string sent as it is. */

import { internal } from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { writeContent, writeElement, XML_DECLARATION, XmlWriteError } from '../../xml/write.ts';
import type { CompiledOperation } from './operations.ts';

/**
 * input.body as XML: a string is sent as it is; with `root`, the body is the root element's
 * content; without, an object whose one key is the root element.
 */
export function buildBody(op: CompiledOperation, body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  try {
    if (op.root !== undefined) return XML_DECLARATION + writeElement(op.root, body, 'body');
    const keys = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
    if (keys.length !== 1 || keys[0]!.startsWith('@') || keys[0] === '#text') {
      throw internal(
        op.extras,
        `operation "${op.name}" of service "${op.extras.service}": input.body must be an object with one key, the root element (or set root in the operation)`,
      );
    }
    return XML_DECLARATION + writeContent(body as Record<string, unknown>, 'body', 0);
  } catch (error) {
    if (!(error instanceof XmlWriteError)) throw error;
    // The body comes from the step's input template, often from request data.
    throw new ChorusError(
      'CHORUS_VALIDATION_FAILED',
      `the input of ${op.extras.service}.${op.name} cannot be sent as XML: ${error.message}`,
      { extras: { ...op.extras, errors: [{ field: error.field, message: error.message }] } },
    );
  }
}
