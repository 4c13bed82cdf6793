/** Small schema pieces shared by the config schema and the connectors' own service schemas. */
import { z } from 'zod';
import { parseDuration, parseSize } from './units.ts';

/** A duration: milliseconds as a number, or a string such as "250ms", "5s", "2m". */
export const durationSchema = z
  .union([z.number().nonnegative(), z.string()])
  .refine((value) => parseDuration(value) !== undefined, {
    message: 'expected a duration such as 250, "250ms", "5s" or "2m"',
  })
  .describe('A duration: milliseconds as a number, or a string such as "250ms", "5s", "2m".');

/** A timeout: a duration above zero (a zero timeout would fail every call). */
export const timeoutSchema = durationSchema
  .refine((value) => (parseDuration(value) ?? 0) > 0, { message: 'a timeout must be above 0, such as "5s"' })
  .describe('A timeout above zero: milliseconds as a number, or a string such as "250ms", "5s".');

/** A size: bytes as a number, or a string such as "512kb", "1mb". */
export const sizeSchema = z
  .union([z.number().int().nonnegative(), z.string()])
  .refine((value) => parseSize(value) !== undefined, {
    message: 'expected a size such as 1024, "512kb" or "1mb"',
  })
  .describe('A size: bytes as a number, or a string such as "512kb" or "1mb".');

/** A template: any JSON value shaped like what it builds; a string leaf may hold {{ CEL }}. */
export const templateSchema = z
  .unknown()
  .describe('A template shaped like the value it builds; string leaves may hold "{{ expression }}".');

/** Static header values sent as they are. */
export const staticHeadersSchema = z
  .record(z.string(), z.string())
  .describe('Headers sent as they are (values may use ${env.NAME}).');

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** An HTTP method name. */
export const httpMethodSchema = z.enum(HTTP_METHODS).describe('An HTTP method.');

/** A fixed route path of a built-in page (the portal, /metrics, the admin routes): no parameters, no trailing slash. */
export function routePathSchema(example: string) {
  const message = `expected a path such as ${example}`;
  return z
    .string()
    .regex(/^\/[A-Za-z0-9\-._~/]*$/, message)
    .refine((value) => value.length > 1 && !value.endsWith('/'), message);
}
