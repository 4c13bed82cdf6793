/**
 * A paced, open-loop load generator (run as its own process, pinned to the load core by
 * open-loop.ts). Request i is due at start + i/rate and is sent then whether or not earlier answers
 * came back, over enough keep-alive connections that the client never waits for a free one, so
 * queueing inside the gateway shows up in the percentiles instead of silently lowering the send
 * rate (the coordinated omission of a closed-loop generator such as wrk). Written here because
 * wrk2 is not packaged by Debian.
 *
 * Latency runs from the moment the request is handed to undici (which includes any wait for a
 * connection) to the last body byte. The timer that wakes the sender has ~1 ms granularity: that
 * lateness is the client's, not the gateway's, so it is reported separately as send lag, and a
 * run whose p99 send lag is large is flagged as limited by the generator.
 *
 * undici's low-level dispatch() is used instead of request(): no stream or promise per request,
 * which keeps the generator cheap on a core it shares with the backends.
 *
 * Usage: node bench/lib/open-loop-client.ts '<json OpenLoopConfig>'  → prints one JSON OpenLoopResult.
 */
import { Pool } from 'undici';
import type { OpenLoopConfig, OpenLoopResult } from './open-loop.ts';
import { percentile } from './stats.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as OpenLoopConfig;
const pool = new Pool(config.origin, { connections: config.connections, pipelining: 1 });
const interval = 1000 / config.rate;
const markers = config.markers.map((marker) => Buffer.from(marker));
const dispatchOptions = {
  path: config.request.path,
  method: config.request.method,
  headers: config.request.headers ?? {},
  body: config.request.body ?? null,
};

interface Phase {
  count: number;
  start: number;
  latencies: Float64Array;
  lags: Float64Array;
  done: Uint8Array;
  completed: number;
  non2xx: number;
  badBody: number;
  errors: number;
}

function send(phase: Phase, index: number, now: number): void {
  phase.lags[index] = now - (phase.start + index * interval);
  let status = 0;
  let chunks: Buffer[] = [];
  const finish = (failed: boolean) => {
    phase.latencies[index] = performance.now() - now;
    phase.done[index] = 1;
    phase.completed++;
    if (failed) phase.errors++;
    else if (status < 200 || status > 299) phase.non2xx++;
    else {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (!markers.every((marker) => body.includes(marker))) phase.badBody++;
    }
    chunks = [];
  };
  // The classic handler form: Pool.dispatch does not adapt the newer onResponse* form by itself.
  pool.dispatch(dispatchOptions, {
    onConnect() {},
    onHeaders(statusCode) {
      status = statusCode;
      return true;
    },
    onData(chunk) {
      chunks.push(chunk);
      return true;
    },
    onComplete() {
      finish(false);
    },
    onError() {
      finish(true);
    },
  });
}

/** Sends `seconds` worth of requests on schedule, then waits (bounded) for the stragglers. */
async function runPhase(seconds: number): Promise<Phase> {
  const count = Math.max(1, Math.round(config.rate * seconds));
  const phase: Phase = {
    count,
    start: performance.now() + 5,
    latencies: new Float64Array(count),
    lags: new Float64Array(count),
    done: new Uint8Array(count),
    completed: 0,
    non2xx: 0,
    badBody: 0,
    errors: 0,
  };
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < count && phase.start + next * interval <= now) send(phase, next++, now);
      if (next < count) setTimeout(tick, Math.max(0, phase.start + next * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + config.drainMs;
  while (phase.completed < count && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // Unanswered requests count with the latency they had reached: dropping them would flatter the tail.
  const end = performance.now();
  for (let index = 0; index < count; index++) {
    if (!phase.done[index])
      phase.latencies[index] = end - (phase.start + index * interval + phase.lags[index]!);
  }
  return phase;
}

await runPhase(config.warmupS);
const measured = await runPhase(config.durationS);
const sorted = Array.from(measured.latencies).sort((a, b) => a - b);
const lags = Array.from(measured.lags).sort((a, b) => a - b);
const result: OpenLoopResult = {
  rate: config.rate,
  sent: measured.count,
  completed: measured.completed,
  unanswered: measured.count - measured.completed,
  non2xx: measured.non2xx,
  badBody: measured.badBody,
  errors: measured.errors,
  p50Ms: percentile(sorted, 50),
  p90Ms: percentile(sorted, 90),
  p99Ms: percentile(sorted, 99),
  maxMs: sorted[sorted.length - 1] ?? 0,
  sendLagP50Ms: percentile(lags, 50),
  sendLagP99Ms: percentile(lags, 99),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await pool.destroy();
process.exit(0);
