/**
 * Gives memory back to the system when a serving process falls idle (docs/performance.md, "Memory").
 *
 * V8 keeps the heap it grew to: the pages a busy spell (compiling a large config, a burst of load)
 * needed stay committed and pooled when the process idles, because its memory reducer reads the
 * allocation rate of the last GC and, with no GC while idle, never decides the heap is idle. A
 * 10,000-endpoint gateway sat at 333 MB RSS after start, of which 64 MB live heap; one
 * memory-reducing full GC took it to 160 MB. So: every few seconds, read the event loop's
 * utilization; the first quiet interval after start (compiling the config) runs that GC once.
 * After that, only a long quiet spell (5 minutes) after traffic runs it again: the GC drops
 * compiled code too, so the next requests run cold for a while — measured in `npm run bench`,
 * whose targets idle ~30–70 s between their rounds: with a trim after every quiet interval the
 * aggregate scenario cost 212 µs CPU per request instead of 155–164. It runs only when the
 * process has had nothing to do for a whole interval, so no request waits on it, and never
 * sooner than 10 s after the last one.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the event loop's utilization is read. */
const CHECK_INTERVAL_MS = 2000;
/** An interval busier than this counts as activity (a start, a burst of requests). */
const BUSY = 0.05;
/** An interval quieter than this counts as idle. */
const QUIET = 0.01;
/** At most one trim in this time: bursty traffic must not turn into a full GC every few seconds. */
const MIN_SPACING_MS = 10_000;
/** After the first trim, how long the process must have been quiet before the next one. */
const QUIET_AFTER_TRAFFIC_MS = 300_000;

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** V8's gc(), reached without exposing it to the process's own global scope. */
function memoryReducingGc(): Gc | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as Gc | undefined;
    setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? gc : undefined;
  } catch {
    return undefined;
  }
}

/** Starts watching for idle spells (an unref'd timer: it never keeps the process alive). */
export function watchIdleHeap(): void {
  const gc = memoryReducingGc();
  if (gc === undefined) return;
  let last = performance.eventLoopUtilization();
  // The process has just started: compiling the config is the first busy spell.
  let busySinceTrim = true;
  let trimmed = false;
  let lastTrim = -MIN_SPACING_MS;
  let quietSince: number | undefined;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    const at = performance.now();
    if (utilization > BUSY) busySinceTrim = true;
    if (utilization >= QUIET) {
      quietSince = undefined;
      return;
    }
    quietSince ??= at - CHECK_INTERVAL_MS;
    const quietFor = trimmed ? QUIET_AFTER_TRAFFIC_MS : 0;
    if (busySinceTrim && at - quietSince >= quietFor && at - lastTrim >= MIN_SPACING_MS) {
      busySinceTrim = false;
      trimmed = true;
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      // The GC itself is not activity.
      last = performance.eventLoopUtilization();
      lastTrim = performance.now();
    }
  }, CHECK_INTERVAL_MS);
  timer.unref();
}
