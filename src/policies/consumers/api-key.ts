/**
 * API keys: stored as SHA-256 digests, looked up by the digest of the presented key. A lookup
 * hashes once, finds the entry in a Map, and always ends with one timingSafeEqual — against the
 * entry's digest on a hit, against a dummy digest on a miss — so a hit and a miss do the same work
 * and nothing about a stored key leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Consumer } from '../../contracts/policy.ts';

/** Longest API key read from a request; longer ones are refused without hashing. */
export const MAX_API_KEY_LENGTH = 512;

/** The SHA-256 digest of a key. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The digest of a `sha256:<hex>` config value. */
export function parseKeyHash(value: string): Buffer {
  return Buffer.from(value.slice('sha256:'.length), 'hex');
}

/** Finds the consumer of a presented API key. */
export interface ApiKeyIndex {
  readonly size: number;
  find(presented: string): Consumer | undefined;
}

interface Entry {
  readonly digest: Buffer;
  readonly consumer: Consumer;
}

// Compared on a miss, so a miss costs what a hit costs.
const DUMMY_DIGEST = hashApiKey('chorus: no such key');

/** Indexes keys by digest; duplicates are the caller's to refuse before. */
export function createApiKeyIndex(entries: readonly Entry[]): ApiKeyIndex {
  const byDigest = new Map<string, Entry>();
  for (const entry of entries) byDigest.set(entry.digest.toString('hex'), entry);
  return {
    size: byDigest.size,
    find(presented) {
      const digest = hashApiKey(presented);
      const entry = byDigest.get(digest.toString('hex'));
      const same = timingSafeEqual(entry ? entry.digest : DUMMY_DIGEST, digest);
      return entry !== undefined && same ? entry.consumer : undefined;
    },
  };
}

/** Where a policy reads keys from, decided at load. */
export interface ApiKeySource {
  /** Lower-case header name. */
  readonly header: string;
  readonly query: string | undefined;
}

/**
 * The key a request presents: a string, undefined when there is none, or null when it is not
 * readable (sent twice, or too long) — which is refused like a wrong key.
 */
export function readApiKey(
  source: ApiKeySource,
  headers: Record<string, string | string[] | undefined>,
  query: Record<string, string | string[] | undefined>,
): string | null | undefined {
  let value = headers[source.header];
  if (value === undefined && source.query !== undefined) value = query[source.query];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_API_KEY_LENGTH) return null;
  return value === '' ? null : value;
}
