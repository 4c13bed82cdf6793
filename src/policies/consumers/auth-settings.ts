/**
 * Config of authentication, gateway-wide, under `auth:`: where API keys are read, how JWTs are
 * verified and mapped to consumers. (The per-endpoint requirement is the auth inbound policy's.)
 * Durations are milliseconds once parsed.
 */
import { z } from 'zod';
import { durationSchema, inMilliseconds, timeoutSchema } from '../../config/schema-parts.ts';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Signature algorithms a JWT may use; `none` is not one of them. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'HS256',
  'HS384',
  'HS512',
] as const;

/** Whether an algorithm is an HMAC (shared secret) one. */
export function isHmacAlgorithm(algorithm: string): boolean {
  return algorithm.startsWith('HS');
}

const oneOrMore = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Where API keys are read. */
export const apiKeySettingsSchema = z
  .strictObject({
    header: z
      .string()
      .regex(HEADER_NAME, 'expected a header name')
      .default('x-api-key')
      .describe('The request header holding the API key.'),
    query: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A query parameter that may hold the API key instead (off by default: URLs end up in logs and browser history).',
      ),
  })
  .describe('Where API keys are read.');

/** A static verification key: a PEM or JWK file, PEM text, a JWK, or an HMAC secret. */
export const jwtKeySchema = z
  .union([
    z.strictObject({
      file: z
        .string()
        .min(1)
        .describe('A PEM public key or certificate, or a JWK / JWK set JSON file, relative to the config.'),
    }),
    z.strictObject({
      pem: z
        .string()
        .min(1)
        .describe('A PEM public key (SPKI) or certificate, e.g. from ${env.JWT_PUBLIC_KEY}.'),
    }),
    z.strictObject({ jwk: z.record(z.string(), z.unknown()).describe('A public JWK.') }),
    z.strictObject({
      secret: z
        .string()
        .min(32, 'an HMAC secret needs at least 32 characters')
        .describe('A shared HMAC secret for HS256/384/512, e.g. ${env.JWT_SECRET}.'),
    }),
  ])
  .describe('A static key that verifies tokens: {file}, {pem}, {jwk} or {secret}.');

/** How JWT bearer tokens are verified and mapped to a consumer. */
export const jwtSettingsSchema = z
  .strictObject({
    issuer: oneOrMore.describe('The accepted `iss` value(s).'),
    audience: oneOrMore.describe('The accepted `aud` value(s); a token must name one of them.'),
    jwksUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("The issuer's JWKS URL; keys are cached and refetched on an unknown kid."),
    key: jwtKeySchema.optional(),
    algorithms: z
      .array(z.enum(JWT_ALGORITHMS))
      .min(1)
      .describe('The accepted signature algorithms (explicit: never `none`; HS* only with a secret).'),
    clockSkew: inMilliseconds(durationSchema)
      .prefault('30s')
      .describe('Leeway for exp, nbf and iat between clocks.'),
    requireExpiry: z.boolean().default(true).describe('Whether a token without `exp` is refused.'),
    maxTokenAge: inMilliseconds(durationSchema)
      .optional()
      .describe('Refuses tokens whose `iat` is older than this (off by default).'),
    header: z
      .string()
      .regex(HEADER_NAME, 'expected a header name')
      .default('authorization')
      .describe('The header carrying `Bearer <token>`.'),
    jwks: z
      .strictObject({
        cacheMaxAge: inMilliseconds(durationSchema)
          .prefault('10m')
          .describe('How long fetched keys are used before a refetch.'),
        refreshInterval: inMilliseconds(durationSchema)
          .prefault('30s')
          .describe('Least time between two fetches (an unknown kid refetches at most once per interval).'),
        timeout: inMilliseconds(timeoutSchema).prefault('5s').describe('Timeout of one JWKS fetch.'),
      })
      .prefault({ cacheMaxAge: '10m', refreshInterval: '30s', timeout: '5s' })
      .describe('JWKS caching and refresh.'),
    claims: z
      .strictObject({
        consumer: z.string().min(1).default('sub').describe('The claim whose value is the consumer id.'),
        scopes: z
          .string()
          .min(1)
          .default('scope')
          .describe('The claim holding scopes: a space-separated string or a list (`scp` is also read).'),
        plan: z
          .string()
          .min(1)
          .optional()
          .describe('A claim naming the plan of the caller (must be a declared plan).'),
      })
      .default({ consumer: 'sub', scopes: 'scope' })
      .describe('How verified claims become the consumer.'),
    plan: z
      .string()
      .min(1)
      .optional()
      .describe('The plan of token subjects not declared as consumers (and without a plan claim).'),
  })
  .superRefine((jwt, ctx) => {
    if ((jwt.jwksUrl === undefined) === (jwt.key === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of jwksUrl or key' });
      return;
    }
    const secret = jwt.key !== undefined && 'secret' in jwt.key;
    jwt.algorithms.forEach((algorithm, index) => {
      if (secret !== isHmacAlgorithm(algorithm)) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithms', index],
          message: secret
            ? `${algorithm} needs a public key; a secret only verifies HS256/HS384/HS512`
            : `${algorithm} needs key.secret; public keys never verify HMAC tokens`,
        });
      }
    });
  })
  .describe('JWT bearer tokens: issuer, audience, keys (JWKS URL or static), algorithms.');

/** Gateway-wide authentication settings. */
export const authSettingsSchema = z
  .strictObject({
    apiKey: apiKeySettingsSchema.default({ header: 'x-api-key' }),
    jwt: jwtSettingsSchema.optional(),
    realm: z.string().min(1).default('chorus').describe('The realm named in WWW-Authenticate.'),
  })
  .describe('How callers authenticate: API keys, JWT.');

export type AuthSettings = z.output<typeof authSettingsSchema>;
export type JwtSettings = z.output<typeof jwtSettingsSchema>;
