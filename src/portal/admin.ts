/**
 * The admin routes' guard: a bearer credential from the config, compared in constant time (both
 * sides hashed to equal-length digests first, so neither the value nor its length leaks by timing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Checks an Authorization header against the admin credential. */
export type AdminGuard = (authorization: string | string[] | undefined) => boolean;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Builds the guard of a credential (its digest computed once, at load). */
export function createAdminGuard(credential: string): AdminGuard {
  const expected = digest(credential);
  return (authorization) => {
    if (typeof authorization !== 'string') return false;
    const match = BEARER.exec(authorization);
    if (!match) return false;
    return timingSafeEqual(digest(match[1]!), expected);
  };
}
