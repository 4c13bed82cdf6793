/** Parsing of the human units config files use for durations and sizes. Done once, at load. */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const DURATION_FACTOR = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds from `250`, `"250ms"`, `"5s"`, `"2m"`, `"1h"`; undefined when malformed. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_FACTOR[match[2] as keyof typeof DURATION_FACTOR];
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i;
const SIZE_FACTOR = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;

/** Bytes from `1024`, `"512kb"`, `"1mb"`; undefined when malformed. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = SIZE.exec(value.trim());
  if (!match) return undefined;
  return Math.floor(Number(match[1]) * SIZE_FACTOR[match[2]!.toLowerCase() as keyof typeof SIZE_FACTOR]);
}
