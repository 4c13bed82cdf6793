/** Reading request bodies: content type checked, size capped while reading, JSON parsed safely. */
import type { IncomingMessage } from 'node:http';
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

/** Reads and parses a JSON body; undefined when there is none. Throws 413, 415 or 400 problems. */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
  depthLimit: number,
  signal: AbortSignal,
): Promise<unknown> {
  if (!hasBody(req)) return Promise.resolve(undefined);
  const contentType = req.headers['content-type'];
  if (contentType === undefined || !JSON_TYPE.test(contentType)) {
    return Promise.reject(
      new ChorusError(
        'CHORUS_UNSUPPORTED_MEDIA_TYPE',
        `expected content-type application/json, got ${contentType === undefined ? 'none' : `"${contentType}"`}`,
      ),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const text =
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
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
      cleanup();
      reject(error);
    };
    // The request deadline covers the upload too: a body trickled byte by byte cannot outlast it.
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
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
