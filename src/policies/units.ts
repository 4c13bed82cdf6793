/**
 * Durations and sizes of policy settings become numbers once, when the config is parsed: a
 * field is the config's duration (or size) schema, rewritten into milliseconds (or bytes) by a
 * zod `overwrite` step, with its default given as a `prefault` (the string form, parsed like a
 * value). Factories then read numbers and never repeat the schema's default.
 *
 * Why `overwrite` and not `transform`: zod's JSON Schema (io: 'input') drops the `default` of
 * every container whose inner schema transforms (e.g. `services: {}`, `plans: {}`, a step list's
 * `[]`), so a transform here would change the published schema; an overwrite is a check, not a
 * pipe, and leaves the JSON Schema exactly as it was. The cast states the output zod cannot see.
 */
import type { z } from 'zod';
import { parseDuration, parseSize } from '../config/units.ts';

/** The milliseconds of a duration field (its schema has already checked that it parses). */
export function inMilliseconds<Input>(schema: z.ZodType<number | string, Input>): z.ZodType<number, Input> {
  return schema.overwrite((value) => parseDuration(value) as number) as unknown as z.ZodType<number, Input>;
}

/** The bytes of a size field (its schema has already checked that it parses). */
export function inBytes<Input>(schema: z.ZodType<number | string, Input>): z.ZodType<number, Input> {
  return schema.overwrite((value) => parseSize(value) as number) as unknown as z.ZodType<number, Input>;
}
