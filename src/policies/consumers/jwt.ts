/**
 * JWT bearer tokens, verified with jose: keys from a JWKS URL (cached; an unknown kid refetches at
 * most once per refresh interval, and a failed fetch is not retried within that interval either)
 * or a static key imported once per allowed algorithm at load. The algorithm allow-list is
 * explicit and checked by jose before any key is used; `none` is never accepted, a public key
 * never verifies an HMAC token (JWKS sets refuse secret algorithms; static public keys are only
 * imported for asymmetric algorithms and the schema refuses mixing HS* with a public key).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importJWK,
  importSPKI,
  importX509,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { Logger } from 'pino';
import type { ConfigPath, IssueReporter } from '../../contracts/issues.ts';
import type { Consumer } from '../../contracts/policy.ts';
import type { JwtSettings } from './auth-settings.ts';

/** What the verifier needs to know about declared consumers and plans. */
export interface SubjectDirectory {
  /** The declared consumer a JWT subject maps to (by id or by its `subjects`). */
  bySubject(subject: string): { id: string; plan: string | undefined; scopes: readonly string[] } | undefined;
  /** The scopes of a plan, or undefined when no such plan is declared. */
  planScopes(plan: string): readonly string[] | undefined;
}

/** Verifies bearer tokens and turns their claims into a consumer. */
export interface JwtVerifier {
  /** The consumer of a valid token; otherwise the reason it was refused (for logs, never for clients). */
  verify(token: string): Promise<{ consumer: Consumer } | { reason: string }>;
}

/** Longest token accepted (a bearer token is header-sized; anything longer is refused unread). */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** Builds the verifier of the `auth.jwt` settings; undefined (with issues reported) when it cannot. */
export async function createJwtVerifier(
  settings: JwtSettings,
  directory: SubjectDirectory,
  ctx: { baseDir: string; issue: IssueReporter; logger: Logger },
  at: ConfigPath,
): Promise<JwtVerifier | undefined> {
  const getKey = settings.jwksUrl
    ? remoteKeys(settings, ctx.logger)
    : await staticKeys(settings, ctx, [...at, 'key']);
  if (!getKey) return undefined;
  if (settings.plan !== undefined && directory.planScopes(settings.plan) === undefined) {
    ctx.issue([...at, 'plan'], `no plan "${settings.plan}" in plans`);
  }
  const options: JWTVerifyOptions = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: [...settings.algorithms],
    clockTolerance: settings.clockSkew / 1000,
    requiredClaims: settings.requireExpiry ? ['exp'] : [],
  };
  if (settings.maxTokenAge !== undefined) {
    options.maxTokenAge = settings.maxTokenAge / 1000;
  }
  const { consumer: consumerClaim, scopes: scopesClaim, plan: planClaim } = settings.claims;
  const readScopes = (payload: JWTPayload): string[] => {
    let raw = payload[scopesClaim];
    if (raw === undefined && scopesClaim === 'scope') raw = payload.scp;
    if (typeof raw === 'string') return raw.split(' ').filter((scope) => scope !== '');
    if (Array.isArray(raw)) return raw.filter((scope): scope is string => typeof scope === 'string');
    return [];
  };

  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) return { reason: 'token too long' };
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, options));
      } catch (error) {
        return { reason: (error as { code?: string }).code ?? (error as Error).name };
      }
      const subject = payload[consumerClaim];
      if (typeof subject !== 'string' || subject === '') return { reason: `no ${consumerClaim} claim` };
      const declared = directory.bySubject(subject);
      let plan = declared?.plan;
      if (plan === undefined && planClaim !== undefined) {
        const named = payload[planClaim];
        if (typeof named === 'string' && directory.planScopes(named) !== undefined) plan = named;
      }
      plan ??= settings.plan;
      const scopes = new Set(readScopes(payload));
      for (const scope of declared?.scopes ?? []) scopes.add(scope);
      if (plan !== undefined) for (const scope of directory.planScopes(plan) ?? []) scopes.add(scope);
      const consumer: Consumer = {
        id: declared?.id ?? subject,
        plan,
        scopes: [...scopes],
        via: 'jwt',
        claims: Object.freeze(payload),
      };
      return { consumer };
    },
  };
}

/** Keys from the issuer's JWKS URL, with jose's cache and cooldown, plus a backoff after a failed fetch. */
function remoteKeys(settings: JwtSettings, logger: Logger): JWTVerifyGetKey {
  const refreshMs = settings.jwks.refreshInterval;
  const url = new URL(settings.jwksUrl!);
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: settings.jwks.cacheMaxAge,
    cooldownDuration: refreshMs,
    timeoutDuration: settings.jwks.timeout,
  });
  // jose retries a failed fetch on the next token; a down or slow JWKS endpoint would then be
  // fetched once per request. After a failure, the keys already known answer until the interval ends.
  let failedAt = Number.NEGATIVE_INFINITY;
  let known: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    if (Date.now() - failedAt < refreshMs) {
      if (!known) throw new errors.JWKSNoMatchingKey('the JWKS could not be fetched lately');
      return known(header, token);
    }
    try {
      return await remote(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      failedAt = Date.now();
      const jwks = remote.jwks();
      known = jwks ? createLocalJWKSet(jwks) : undefined;
      logger.warn(
        { jwksUrl: url.origin + url.pathname, err: (error as Error).message },
        'JWKS fetch failed; keeping the known keys for the refresh interval',
      );
      throw error;
    }
  };
}

/** A static key, imported once per allowed algorithm. */
async function staticKeys(
  settings: JwtSettings,
  ctx: { baseDir: string; issue: IssueReporter },
  at: ConfigPath,
): Promise<JWTVerifyGetKey | undefined> {
  const key = settings.key!;
  if ('secret' in key) {
    const secret = new TextEncoder().encode(key.secret);
    return () => secret;
  }
  let source: { pem: string } | { jwk: Record<string, unknown> } | { jwks: { keys: JWK[] } };
  if ('file' in key) {
    let text: string;
    try {
      text = await readFile(path.resolve(ctx.baseDir, key.file), 'utf8');
    } catch (error) {
      ctx.issue(
        [...at, 'file'],
        `cannot read the key file: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
      return undefined;
    }
    if (text.trimStart().startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        ctx.issue([...at, 'file'], 'the key file is neither PEM nor valid JSON');
        return undefined;
      }
      source =
        json !== null && typeof json === 'object' && Array.isArray((json as { keys?: unknown }).keys)
          ? { jwks: json as { keys: JWK[] } }
          : { jwk: json as Record<string, unknown> };
    } else source = { pem: text };
  } else if ('pem' in key) source = { pem: key.pem };
  else source = { jwk: key.jwk };

  if ('jwks' in source) {
    if (source.jwks.keys.some((jwk) => 'd' in jwk || jwk.kty === 'oct')) {
      ctx.issue([...at, 'file'], 'the JWK set holds private or secret keys; give only public keys');
      return undefined;
    }
    try {
      return createLocalJWKSet(source.jwks);
    } catch (error) {
      ctx.issue([...at, 'file'], `the JWK set is not valid: ${(error as Error).message}`);
      return undefined;
    }
  }
  const where: ConfigPath = 'file' in key ? [...at, 'file'] : 'pem' in key ? [...at, 'pem'] : [...at, 'jwk'];
  if ('pem' in source && /PRIVATE KEY-----/.test(source.pem)) {
    ctx.issue(where, 'this is a private key; give the public key (openssl pkey -pubout)');
    return undefined;
  }
  if ('jwk' in source && ('d' in source.jwk || source.jwk.kty === 'oct')) {
    ctx.issue(where, 'the JWK is private or secret; give the public key (or key.secret for HS*)');
    return undefined;
  }
  const keys = new Map<string, CryptoKey>();
  for (const algorithm of settings.algorithms) {
    try {
      let imported: unknown;
      if ('jwk' in source) imported = await importJWK(source.jwk as JWK, algorithm);
      else if (source.pem.includes('BEGIN CERTIFICATE')) imported = await importX509(source.pem, algorithm);
      else imported = await importSPKI(source.pem, algorithm);
      keys.set(algorithm, imported as CryptoKey);
    } catch (error) {
      ctx.issue(where, `the key cannot verify ${algorithm}: ${(error as Error).message}`);
      return undefined;
    }
  }
  return (header) => {
    const found = header.alg === undefined ? undefined : keys.get(header.alg);
    if (!found) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    return found;
  };
}
