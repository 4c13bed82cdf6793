/** Config of the cors policy. */
import { z } from 'zod';
import { durationSchema, inMilliseconds } from '../../../config/schema-parts.ts';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const header = z.string().regex(HEADER_NAME, 'expected a header name');

/** Request headers a browser may send by default. */
export const DEFAULT_ALLOWED_HEADERS = ['content-type', 'authorization', 'x-api-key', 'x-request-id'];
/** Response headers scripts may read by default. */
export const DEFAULT_EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy'];

/** Which origins may call an endpoint from a browser, and how preflights are answered. */
export const corsPolicySchema = z
  .strictObject({
    origins: z
      .array(
        z
          .string()
          .regex(
            /^(\*|https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)$/,
            'expected "*", an origin such as "https://app.example.com", or "https://*.example.com"',
          ),
      )
      .min(1)
      .describe(
        'Allowed origins: exact ("https://app.example.com"), a subdomain wildcard ("https://*.example.com"), or "*".',
      ),
    allowHeaders: z
      .array(header)
      .default(DEFAULT_ALLOWED_HEADERS)
      .describe('Request headers a browser may send (answered in Access-Control-Allow-Headers).'),
    exposeHeaders: z
      .array(header)
      .default(DEFAULT_EXPOSED_HEADERS)
      .describe('Response headers scripts may read (Access-Control-Expose-Headers).'),
    credentials: z
      .boolean()
      .default(false)
      .describe('Whether cookies and HTTP auth may be sent (never together with "*").'),
    maxAge: inMilliseconds(durationSchema)
      .prefault('10m')
      .describe('How long a browser may cache a preflight answer (Access-Control-Max-Age).'),
  })
  .superRefine((cors, ctx) => {
    const star = cors.origins.indexOf('*');
    if (star !== -1 && cors.credentials) {
      ctx.addIssue({
        code: 'custom',
        path: ['origins', star],
        message: '"*" cannot be used with credentials: list the origins that may send credentials',
      });
    }
  })
  .describe('CORS: which origins, methods and headers may call, preflight answers.');

export type CorsPolicyConfig = z.output<typeof corsPolicySchema>;
