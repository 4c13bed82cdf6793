/** Reading request bodies: content type checked, size capped while reading, JSON parsed safely. */
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ChorusError } from '../errors/catalogue.ts';
import { JsonSyntaxError, parseUntrustedJson } from '../json/parse.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Whether the request carries a body at all (a length, or chunked transfer). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Whether the request declares a body longer than the limit (refused before it is read). */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > limit;
}

/** What an endpoint takes as its body, fixed at load (input.bodyTypes). */
export interface BodyReading {
  readonly limit: number;
  readonly depthLimit: number;
  /** Whether application/x-www-form-urlencoded is taken besides JSON. */
  readonly forms: boolean;
}

/** The content codings a request body may come in (RFC 9110 §8.4): decoded under the same limit. */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/**
 * Reads and parses a JSON (or, where the endpoint takes it, form-urlencoded) body; undefined when
 * there is none. A gzip, deflate or br body is decoded as it arrives, and the limit counts the
 * decoded bytes: a zip bomb stops at the limit (plus at most one zlib chunk, 16 KB) with 413.
 * Throws 413, 415 or 400 problems.
 */
export function readJsonBody(
  req: IncomingMessage,
  reading: BodyReading,
  signal: AbortSignal,
): Promise<unknown> {
  if (!hasBody(req)) return Promise.resolve(undefined);
  const { limit, depthLimit } = reading;
  const contentType = req.headers['content-type'];
  const form = reading.forms && contentType !== undefined && FORM_TYPE.test(contentType);
  if (contentType === undefined || (!form && !JSON_TYPE.test(contentType))) {
    const expected = reading.forms
      ? 'application/json or application/x-www-form-urlencoded'
      : 'application/json';
    return Promise.reject(
      new ChorusError(
        'CHORUS_UNSUPPORTED_MEDIA_TYPE',
        `expected content-type ${expected}, got ${contentType === undefined ? 'none' : `"${contentType}"`}`,
      ),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  const coding = req.headers['content-encoding']?.trim().toLowerCase();
  let source: Readable = req;
  let decoder: Transform | undefined;
  if (coding !== undefined && coding !== '' && coding !== 'identity') {
    const create = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
    if (create === undefined) {
      return Promise.reject(
        new ChorusError(
          'CHORUS_UNSUPPORTED_MEDIA_TYPE',
          `content-encoding "${coding}" is not supported (gzip, deflate, br or none)`,
        ),
      );
    }
    decoder = create();
    source = req.pipe(decoder);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let wire = 0;
    const countWire = (chunk: Buffer): void => {
      wire += chunk.length;
      if (wire > limit) fail(tooLarge(limit));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        fail(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const fail = (error: unknown): void => {
      cleanup();
      // Stop decoding at once: nothing more is inflated once the limit is passed.
      decoder?.destroy();
      reject(error);
    };
    const onEnd = (): void => {
      cleanup();
      const text =
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      if (form) {
        resolve(parseForm(text));
        return;
      }
      let parsed: unknown;
      try {
        parsed = parseUntrustedJson(text);
      } catch (error) {
        const detail = error instanceof JsonSyntaxError ? error.message : 'malformed JSON';
        reject(new ChorusError('CHORUS_BAD_JSON', detail));
        return;
      }
      if (exceedsDepth(parsed, depthLimit)) {
        reject(
          new ChorusError('CHORUS_BAD_JSON', `the body nests deeper than ${depthLimit} levels`, {
            extras: { depthLimit },
          }),
        );
        return;
      }
      resolve(parsed);
    };
    const onError = (error: Error): void => {
      // A body that does not decode (not gzip, truncated) is the client's mistake.
      fail(
        decoder !== undefined && source !== req
          ? new ChorusError(
              'CHORUS_BAD_CONTENT_ENCODING',
              `the ${coding} body does not decode: ${error.message}`,
            )
          : error,
      );
    };
    // The request deadline covers the upload too: a body trickled byte by byte cannot outlast it.
    const onAbort = (): void => fail(signal.reason);
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      if (decoder !== undefined) {
        req.off('data', countWire);
        req.unpipe(decoder);
        req.off('error', onError);
      }
      signal.removeEventListener('abort', onAbort);
    };
    if (decoder !== undefined) {
      req.on('data', countWire);
      req.on('error', onError);
    }
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

/**
 * A form body as an object: each name once as a string, repeated names as a list of strings, in an
 * object without a prototype (a field named __proto__ is a field). node:querystring does the
 * decoding (+ as space, percent-escapes).
 */
function parseForm(text: string): Record<string, string | string[]> {
  const parsed = parseQuery(text, '&', '=', { maxKeys: 1000 });
  const form: Record<string, string | string[]> = Object.create(null);
  for (const name of Object.keys(parsed)) form[name] = parsed[name]!;
  return form;
}

/** Whether a parsed JSON value nests objects/arrays deeper than the limit (deep input is a DoS vector downstream). */
export function exceedsDepth(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (typeof child === 'object' && child !== null && exceedsDepth(child, limit - 1)) return true;
  }
  return false;
}

/** 413 CHORUS_BODY_TOO_LARGE naming the limit. */
export function tooLarge(limit: number): ChorusError {
  return new ChorusError('CHORUS_BODY_TOO_LARGE', `the body is larger than the limit of ${limit} bytes`, {
    extras: { limit },
  });
}
