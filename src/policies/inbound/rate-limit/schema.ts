/** Config of the rate-limit and quota policies (per endpoint, and per consumer plan). */
import { z } from 'zod';
import { durationSchema, inMilliseconds } from '../../../config/schema-parts.ts';
import { parseDuration } from '../../../config/units.ts';
import { QUOTA_PERIODS } from '../../../state/periods.ts';
import { storeNameSchema } from '../../../state/schema.ts';

const KEY_KINDS = ['consumer', 'apiKey', 'ip'] as const;
const EXPRESSION = /^\{\{[\s\S]*\}\}$/;

/** Whom a limit counts: the consumer, the API key, the client address, or an expression. */
export const limitKeySchema = z
  .string()
  .refine((value) => (KEY_KINDS as readonly string[]).includes(value) || EXPRESSION.test(value.trim()), {
    message: 'expected consumer, apiKey, ip or a "{{ expression }}"',
  })
  .describe(
    'Whom the limit counts: consumer (default), apiKey, ip, or a "{{ CEL expression }}" over request; without a consumer (or when the expression gives null or ""), the client address.',
  );

const commonFields = {
  store: storeNameSchema.default('memory'),
  onStoreError: z
    .enum(['open', 'closed'])
    .default('open')
    .describe('When the store cannot be reached: open lets requests through, closed answers 503.'),
  headers: z
    .enum(['ietf', 'x-ratelimit', 'none'])
    .default('ietf')
    .describe('Headers on answers: ietf (RateLimit, RateLimit-Policy), x-ratelimit (X-RateLimit-*), none.'),
};

const rateLimitFields = {
  limit: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .describe('Most requests in any window (sliding, so never a 2x burst at window edges).'),
  window: inMilliseconds(
    durationSchema.refine((value) => (parseDuration(value) ?? 0) >= 1000, {
      message: 'a window is at least 1s',
    }),
  ).describe('The window, e.g. "1s", "1m", "1h".'),
  ...commonFields,
};

const quotaFields = {
  limit: z.number().int().min(1).max(1e12).describe('Most requests in a period.'),
  period: z
    .enum(QUOTA_PERIODS)
    .default('day')
    .describe('The calendar period (UTC) counted: minute, hour, day, week (from Monday) or month.'),
  ...commonFields,
};

const sharedFields = {
  key: limitKeySchema.default('consumer'),
  name: z
    .string()
    .regex(/^[\w.-]{1,100}$/, 'letters, digits, _, . and -')
    .optional()
    .describe('The counter: endpoints with the same name share it (default: the endpoint id).'),
};

/** A rate limit of an endpoint. */
export const rateLimitPolicySchema = z
  .strictObject({ ...rateLimitFields, ...sharedFields })
  .describe('A rate limit: at most `limit` requests per sliding `window` and key.');

/** A quota of an endpoint: a longer, calendar-period limit. */
export const quotaPolicySchema = z
  .strictObject({ ...quotaFields, ...sharedFields })
  .describe('A quota: at most `limit` requests per calendar period and key.');

/** The rate limit of a plan: counted per consumer, across every endpoint. */
export const planRateLimitSchema = z
  .strictObject(rateLimitFields)
  .describe("A plan's rate limit, counted per consumer across all endpoints.");

/** The quota of a plan: counted per consumer, across every endpoint. */
export const planQuotaSchema = z
  .strictObject(quotaFields)
  .describe("A plan's quota, counted per consumer across all endpoints.");

export type RateLimitPolicyConfig = z.output<typeof rateLimitPolicySchema>;
export type QuotaPolicyConfig = z.output<typeof quotaPolicySchema>;
export type PlanRateLimitConfig = z.output<typeof planRateLimitSchema>;
export type PlanQuotaConfig = z.output<typeof planQuotaSchema>;
