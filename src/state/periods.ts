/**
 * Calendar periods of quotas, in UTC. The same arithmetic runs in Redis's Lua (see redis-scripts.ts),
 * on Redis's clock; this module is the memory store's copy, on the process clock.
 */

/** The calendar periods a quota may count over. */
export const QUOTA_PERIODS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Start (inclusive) and end (exclusive) in epoch milliseconds of the period that holds `now`. */
export function periodBounds(now: number, period: QuotaPeriod): { start: number; end: number } {
  switch (period) {
    case 'minute':
    case 'hour':
    case 'day': {
      const length = period === 'minute' ? MINUTE : period === 'hour' ? HOUR : DAY;
      const start = now - (now % length);
      return { start, end: start + length };
    }
    case 'week': {
      // Weeks start on Monday; 1970-01-01 was a Thursday.
      const day = Math.floor(now / DAY);
      const start = (day - ((day + 3) % 7)) * DAY;
      return { start, end: start + 7 * DAY };
    }
    case 'month': {
      const date = new Date(now);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth();
      return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
    }
  }
}
