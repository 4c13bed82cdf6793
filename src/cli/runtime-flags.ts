/**
 * V8 heap flags for a process that serves a gateway (`chorus start`, `npm start`); see
 * docs/performance.md, "Memory".
 *
 * Node 24's V8 lets the young generation grow to 64 MB per semi-space (128 MB committed) under
 * allocation pressure, and keeps it: the MediaCo gateway went from ~185 MB to 330–370 MB RSS in
 * 30 s of ~750 req/s and stayed there when idle, though its live heap is ~50 MB. A smaller
 * semi-space bounds it, paid for in scavenges: in one bench run of the aggregate scenario at
 * saturation, 182 µs CPU per request with V8's sizing (64), 191 with 32, 215 with 16. 32 MB
 * (64 MB committed) keeps most of the memory bound (RSS 216 MB vs 278 in that run) for ~5 %.
 *
 * V8 reads these flags only when the heap is set up, so they cannot be set from inside the
 * process: the entry point re-executes itself with them (process.execve: same PID, same file
 * descriptors, nothing left behind). A flag already given — on node's command line or in
 * NODE_OPTIONS — wins, so `NODE_OPTIONS=--max-semi-space-size=64` restores V8's own sizing.
 */
import { enableCompileCache } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { watchIdleHeap } from './idle-heap.ts';

/** The young generation's bound: MB per semi-space. */
export const DEFAULT_MAX_SEMI_SPACE_MB = 32;

/** Flags that decide the young generation's size: when one is given, Chorus adds none. */
const YOUNG_GENERATION_FLAGS = ['--max-semi-space-size', '--max-heap-size'];

/** The V8 flags to add to a process started with these node options (none when already named). */
export function runtimeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((arg) =>
    arg.split('=')[0]!.replaceAll('_', '-'),
  );
  if (YOUNG_GENERATION_FLAGS.some((flag) => given.includes(flag))) return [];
  return [`--max-semi-space-size=${DEFAULT_MAX_SEMI_SPACE_MB}`];
}

/**
 * Re-executes this process with the runtime flags when they are missing; does not return then.
 * Returns when they are present, in a worker thread, or where process.execve is not available
 * (Windows; Node before 22.15 / 23.11), after turning on the module compile cache and, in the main
 * thread, the idle heap trim (idle-heap.ts).
 */
export function applyRuntimeFlags(): void {
  const flags = runtimeFlags(process.execArgv, process.env.NODE_OPTIONS);
  const script = process.argv[1];
  if (flags.length === 0 || !isMainThread || script === undefined || typeof process.execve !== 'function') {
    enableModuleCache();
    if (isMainThread) watchIdleHeap();
    return;
  }
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...flags, script, ...process.argv.slice(2)],
    process.env,
  );
}

/**
 * Turns on Node's on-disk module compile cache (node:module enableCompileCache; in os.tmpdir(), or
 * NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off) for the modules loaded from here on.
 * It keeps the V8 code of every module and, for the TypeScript sources, their type-stripped text:
 * from the second start on, Node's type stripper (a WebAssembly module of ~20 MB resident) is not
 * loaded at all (a one-service gateway, bench/footprint.ts: ~10 MB less RSS at idle, and the
 * modules load in about half the time). Entries are keyed by the source's hash, so an edited
 * file is compiled afresh; where the directory cannot be written, Node goes on without a cache.
 */
export function enableModuleCache(): void {
  try {
    enableCompileCache?.();
  } catch {
    // Node before 22.1 has no compile cache: start as before.
  }
}
