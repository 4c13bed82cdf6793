/** Runs the paced open-loop generator (open-loop-client.ts) as a process pinned to the load core. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LOAD_CORE, pinned } from './cores.ts';
import type { RequestSpec } from './process.ts';

/** Settings of one paced run. */
export interface OpenLoopConfig {
  origin: string;
  request: RequestSpec;
  markers: readonly string[];
  /** Requests per second, sent on schedule. */
  rate: number;
  durationS: number;
  /** Unrecorded lead-in at the same rate (opens connections, warms the JIT). */
  warmupS: number;
  /** Enough connections that the client never becomes the queue. */
  connections: number;
  /** How long to wait for outstanding answers after the last send. */
  drainMs: number;
}

/** What a paced run measured; latency runs from handing the request to undici to the last byte. */
export interface OpenLoopResult {
  rate: number;
  sent: number;
  completed: number;
  unanswered: number;
  non2xx: number;
  badBody: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How late the client sent, from its own timer granularity or a busy event loop (not in latency). */
  sendLagP50Ms: number;
  sendLagP99Ms: number;
}

/**
 * p99 send lag above which the paced latencies say more about the generator than the gateway. The
 * timer granularity alone gives 1–3 ms; beyond that the generator's core is the bottleneck.
 */
export const GENERATOR_LIMITED_LAG_MS = 5;

const CLIENT = fileURLToPath(new URL('./open-loop-client.ts', import.meta.url));

/** Runs one paced measurement; killed if it overruns its bounded duration. */
export async function runOpenLoop(config: OpenLoopConfig): Promise<OpenLoopResult> {
  const [command, args] = pinned(LOAD_CORE, process.execPath, [CLIENT, JSON.stringify(config)]);
  const limitMs = (config.warmupS + config.durationS) * 1000 + 2 * config.drainMs + 10_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(guard);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(
          new Error(
            `open-loop client failed (${code}): ${stderr.trim().slice(-1000) || stdout.slice(-1000)}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(line) as OpenLoopResult);
    });
  });
}
