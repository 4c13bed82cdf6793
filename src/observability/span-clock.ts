/**
 * Sub-millisecond span times. The SDK stamps a span's start with Date.now() (whole milliseconds),
 * which is too coarse to tell, between spans, whether one call started before another ended; so
 * Chorus gives every span it starts and ends an explicit high-resolution time from one clock.
 */
import type { HrTime } from '@opentelemetry/api';

/** Now, as [seconds, nanoseconds] since the epoch, from the monotonic performance clock. */
export function spanTime(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}
