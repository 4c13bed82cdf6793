/**
 * Loaded into a gateway under measurement with `node --import bench/lib/memory-probe.ts`: on SIGUSR2
 * it writes one line `memory-probe {json}` to stderr with process.memoryUsage() and the V8 heap
 * spaces (reserved, physically backed and used, MB). With --expose-gc, the fourth signal runs a full
 * GC first, to show the live heap. Used by bench/memory.ts; never loaded by the product.
 */
import v8 from 'node:v8';

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

let signals = 0;
process.on('SIGUSR2', () => {
  // The fourth signal (bench/memory.ts --full-gc) first collects everything: what is live.
  signals++;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (signals === 4 && gc !== undefined) gc();
  const usage = process.memoryUsage();
  const spaces = Object.fromEntries(
    v8
      .getHeapSpaceStatistics()
      .map((s) => [
        s.space_name,
        { size: mb(s.space_size), physical: mb(s.physical_space_size), used: mb(s.space_used_size) },
      ]),
  );
  const line = {
    rss: mb(usage.rss),
    heapTotal: mb(usage.heapTotal),
    heapUsed: mb(usage.heapUsed),
    external: mb(usage.external),
    arrayBuffers: mb(usage.arrayBuffers),
    spaces,
  };
  process.stderr.write(`memory-probe ${JSON.stringify(line)}\n`);
});
