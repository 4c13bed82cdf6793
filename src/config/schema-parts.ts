/**
 * Small schema pieces shared by the config schema and the modules' own schemas. Durations and
 * sizes become numbers once, when the config is parsed (the `…Ms` and `…Bytes` schemas): a field
 * is the duration (or size) schema, rewritten into milliseconds (or bytes) by a zod `overwrite`
 * step, with its default given as a `prefault` (the string form, parsed like a value). Factories
 * then read numbers and never repeat the schema's default.
 *
 * Why `overwrite` and not `transform`: zod's JSON Schema (io: 'input') drops the `default` of
 * every container whose inner schema transforms (e.g. `services: {}`, `plans: {}`, a step list's
 * `[]`), so a transform here would change the published schema; an overwrite is a check, not a
 * pipe, and leaves the JSON Schema exactly as it was. The cast states the output zod cannot see.
 */
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

/** The milliseconds of a duration field (its schema has already checked that it parses). */
export function inMilliseconds<Input>(schema: z.ZodType<number | string, Input>): z.ZodType<number, Input> {
  return schema.overwrite((value) => parseDuration(value) as number) as unknown as z.ZodType<number, Input>;
}

/** The bytes of a size field (its schema has already checked that it parses). */
export function inBytes<Input>(schema: z.ZodType<number | string, Input>): z.ZodType<number, Input> {
  return schema.overwrite((value) => parseSize(value) as number) as unknown as z.ZodType<number, Input>;
}

/** A duration, in milliseconds once parsed. Give its default with `.prefault('5s')`. */
export const durationMsSchema = inMilliseconds(durationSchema);
/** A timeout above zero, in milliseconds once parsed. Give its default with `.prefault('5s')`. */
export const timeoutMsSchema = inMilliseconds(timeoutSchema);
/** A size, in bytes once parsed. Give its default with `.prefault('1mb')`. */
export const sizeBytesSchema = inBytes(sizeSchema);
