/** Config of consumers (who calls) and their plans (rate limit, quota, scopes). */
import { z } from 'zod';
import { planQuotaSchema, planRateLimitSchema } from '../inbound/rate-limit/schema.ts';

const SCOPE = z.string().min(1).max(200);

/** A plan: what every consumer on it gets. */
export const planSchema = z
  .strictObject({
    rateLimit: planRateLimitSchema.optional().describe('The rate limit of each consumer on the plan.'),
    quota: planQuotaSchema.optional().describe('The quota of each consumer on the plan.'),
    scopes: z.array(SCOPE).default([]).describe('Scopes every consumer on the plan has.'),
  })
  .describe('A plan: the rate limit, quota and scopes of its consumers.');

/** `sha256:` and the hex SHA-256 digest of an API key. */
export const keyHashSchema = z
  .string()
  .regex(
    /^sha256:[0-9a-fA-F]{64}$/,
    'expected "sha256:" and 64 hex digits (make one with: printf %s "$KEY" | sha256sum)',
  )
  .describe('The SHA-256 digest of an API key as "sha256:<hex>" (printf %s "$KEY" | sha256sum).');

/** An API key of a consumer: its digest, or an object with an id and a digest or a plain key. */
export const apiKeySchema = z
  .union([
    keyHashSchema,
    z
      .strictObject({
        id: z
          .string()
          .regex(/^[\w.:@-]{1,128}$/, 'key ids are letters, digits and . _ : @ -')
          .optional()
          .describe('The key id logs, metrics and rate limits see (default: <consumer>.key<n>).'),
        hash: keyHashSchema.optional(),
        key: z
          .string()
          .min(16, 'an API key needs at least 16 characters')
          .optional()
          .describe('The key itself, hashed at load: only as ${env.NAME}, never written in the file.'),
      })
      .refine((key) => (key.hash === undefined) !== (key.key === undefined), {
        message: 'give exactly one of hash or key',
      }),
  ])
  .describe('An API key: "sha256:<hex>", or {id, hash} or {id, key: ${env.NAME}}.');

/** A consumer of the API. */
export const consumerSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[\w.:@|-]{1,128}$/, 'consumer ids are letters, digits and . _ : @ | -')
      .describe('The consumer id: what rate limits, quotas, logs and request.consumer.id see.'),
    description: z.string().optional().describe('Who this is, for people.'),
    plan: z.string().min(1).optional().describe('The plan the consumer is on (a key of `plans`).'),
    scopes: z.array(SCOPE).default([]).describe("Scopes of this consumer, besides its plan's."),
    keys: z.array(apiKeySchema).default([]).describe("The consumer's API keys, stored hashed."),
    subjects: z
      .array(z.string().min(1))
      .default([])
      .describe('JWT subjects (values of the consumer claim) that are this consumer, besides its id.'),
  })
  .describe('A consumer of the API.');

/** The consumers: a list, or a YAML/JSON file holding the list. */
export const consumersSchema = z
  .union([
    z.array(consumerSchema),
    z.strictObject({
      file: z.string().min(1).describe('A YAML or JSON file holding the list, relative to the config.'),
    }),
  ])
  .describe('The consumers of the API: a list, or {file: ./consumers.yaml}.');

export type ConsumerConfig = z.output<typeof consumerSchema>;
export type ConsumersConfig = z.output<typeof consumersSchema>;
export type PlanConfig = z.output<typeof planSchema>;
