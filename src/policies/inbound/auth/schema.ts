/** Config of the auth inbound policy: an endpoint's requirement under `policies.auth`. */
import { z } from 'zod';

/** The ways a caller may prove who it is. */
export const AUTH_METHODS = ['apiKey', 'jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

const methodSchema = z.enum(AUTH_METHODS);
const claimValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** The full form of an endpoint's auth requirement. */
export const authRequirementSchema = z
  .strictObject({
    methods: z
      .array(methodSchema)
      .min(1)
      .optional()
      .describe('Accepted methods (default: apiKey, plus jwt when auth.jwt is set).'),
    scopes: z.array(z.string().min(1)).default([]).describe('Scopes the consumer must all have (else 403).'),
    claims: z
      .record(z.string().min(1), z.union([claimValueSchema, z.array(claimValueSchema).min(1)]))
      .default({})
      .describe('JWT claims that must hold a value (one of a list; a list claim must contain it), else 403.'),
    anonymous: z
      .boolean()
      .default(false)
      .describe('Lets callers without credentials through (no consumer); wrong credentials still get 401.'),
  })
  .describe('Who may call: methods, required scopes and claims.');

/** An endpoint's auth requirement: `apiKey`, `jwt`, a list of methods, or the full form. */
export const authPolicySchema = z
  .union([methodSchema, z.array(methodSchema).min(1), authRequirementSchema], {
    error: 'expected apiKey, jwt, a list of them, or {methods, scopes, claims, anonymous}',
  })
  .describe('Who may call: `apiKey`, `jwt`, [apiKey, jwt], or {methods, scopes, claims, anonymous}.');

export type AuthPolicyConfig = z.output<typeof authPolicySchema>;
