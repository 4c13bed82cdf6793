/**
 * JSON parsing for untrusted text (client bodies, backend answers). secure-json-parse (Fastify's)
 * removes `__proto__` keys and `constructor.prototype` so later merges cannot pollute prototypes;
 * it only scans when the text contains those words, so the common case costs one JSON.parse.
 */
import secureJson from 'secure-json-parse';

/** Thrown by parseUntrustedJson; `message` says where the text is malformed. */
export class JsonSyntaxError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'JsonSyntaxError';
  }
}

const OPTIONS = { protoAction: 'remove', constructorAction: 'remove' } as const;

/** Parses untrusted JSON text, dropping `__proto__` and `constructor.prototype` keys. */
export function parseUntrustedJson(text: string): unknown {
  try {
    return secureJson.parse(text, undefined, OPTIONS);
  } catch (error) {
    throw new JsonSyntaxError(error instanceof Error ? error.message : 'malformed JSON', { cause: error });
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether a key may be copied into another object by a merge without risking prototype pollution. */
export function isSafeKey(key: string): boolean {
  return !FORBIDDEN_KEYS.has(key);
}
