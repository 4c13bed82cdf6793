/**
 * How cached answers and step results are stored as bytes (the same in memory and in Redis), and
 * request coalescing: one computation per key in flight, the other callers await it.
 */

/** A cached answer: status, headers, body bytes, when it was stored. */
export interface CachedAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** undefined: the answer has no body. */
  readonly body: Buffer | undefined;
  /** Epoch ms when stored (for the Age header). */
  readonly storedAt: number;
}

const NEWLINE = 0x0a;

/** Encodes an answer: one JSON line of metadata, then the body bytes. */
export function encodeAnswer(answer: CachedAnswer): Buffer {
  const meta = JSON.stringify({
    s: answer.status,
    h: answer.headers,
    t: answer.storedAt,
    b: answer.body === undefined ? 0 : 1,
  });
  return Buffer.concat([Buffer.from(`${meta}\n`), answer.body ?? Buffer.alloc(0)]);
}

/** Decodes what encodeAnswer wrote; undefined when the bytes are not such an entry. */
export function decodeAnswer(bytes: Buffer): CachedAnswer | undefined {
  const end = bytes.indexOf(NEWLINE);
  if (end === -1) return undefined;
  try {
    const meta = JSON.parse(bytes.subarray(0, end).toString('utf8')) as {
      s: number;
      h: Record<string, string>;
      t: number;
      b: 0 | 1;
    };
    if (typeof meta.s !== 'number' || typeof meta.h !== 'object' || meta.h === null) return undefined;
    return {
      status: meta.s,
      headers: Object.assign(Object.create(null) as Record<string, string>, meta.h),
      body: meta.b === 1 ? bytes.subarray(end + 1) : undefined,
      storedAt: meta.t,
    };
  } catch {
    return undefined;
  }
}

import { ChorusError } from '../../errors/catalogue.ts';

/**
 * The error a follower rethrows: a copy, since policies outside the cache (CORS) add headers to
 * the error they see, and each request must have its own.
 */
export function ownCopy(error: unknown): unknown {
  if (!(error instanceof ChorusError)) return error;
  const copy = new ChorusError(error.code, error.message, {
    cause: error.cause,
    retryable: error.retryable,
    extras: { ...error.extras },
    data: error.data,
  });
  if (error.headers) copy.headers = { ...error.headers };
  return copy;
}

/** What followers see when the request computing their key went away (client gone, deadline): they compute for themselves. */
export class LeaderGone extends Error {}

/**
 * One computation per key at a time, within this process: the first caller runs it, the others
 * await the same promise. The entry is removed when it settles.
 */
export class Coalescer<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  /** The computation in flight for the key, if any. */
  pending(key: string): Promise<T> | undefined {
    return this.#inflight.get(key);
  }

  /**
   * The key's computation, shared: joins the one in flight (its failure rethrown as this caller's
   * own copy; when its leader went away, this caller computes for itself) or runs `compute` as it.
   * `onFollow` is told when it joins. A LeaderGone from its own computation is rethrown as its cause.
   */
  async share(key: string, compute: () => Promise<T>, onFollow?: () => void): Promise<T> {
    const pending = this.#inflight.get(key);
    if (pending) {
      onFollow?.();
      try {
        return await pending;
      } catch (error) {
        if (!(error instanceof LeaderGone)) throw ownCopy(error);
      }
    }
    try {
      return await this.run(key, compute);
    } catch (error) {
      throw error instanceof LeaderGone ? error.cause : error;
    }
  }

  /** Runs `compute` as the key's computation; others find it with pending() until it settles. */
  async run(key: string, compute: () => Promise<T>): Promise<T> {
    const promise = compute();
    this.#inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    }
  }
}
