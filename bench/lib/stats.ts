/** Summaries of repeated measurements: rounds are interleaved and reported as median and spread. */

/** The p-th percentile (0..100) of an ascending array, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median with the range of the rounds; spread is (max - min) / median, 0 for a single round. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  spread: number;
  n: number;
}

/** Summarises the rounds of one measure. */
export function summarise(values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite);
  const mid = median(finite);
  const min = finite.length ? Math.min(...finite) : Number.NaN;
  const max = finite.length ? Math.max(...finite) : Number.NaN;
  return {
    median: mid,
    min,
    max,
    spread: finite.length > 1 && mid > 0 ? (max - min) / mid : 0,
    n: finite.length,
  };
}
