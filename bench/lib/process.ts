/**
 * Child processes of the harness: started pinned to a core, waited for until they answer, measured
 * through /proc (RSS, CPU time) and always stopped, also when the run is interrupted.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { pinned } from './cores.ts';

/** A started child process and the last lines it printed (kept for error messages). */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** When spawn was called (performance.now()), for startup-time measurements. */
  readonly startedAt: number;
  /** The last lines of stdout and stderr, newest last. */
  tail(): string;
  /** Whether the process has exited. */
  exited(): boolean;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period) and waits for its exit. */
  stop(): Promise<void>;
}

/** What to start, and where. */
export interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** Pin to this core with taskset; undefined leaves the process unpinned. */
  core?: number;
  env?: Record<string, string>;
  cwd?: string;
}

const running = new Set<Child>();
const groups = new Set<number>();

/** Tracks a detached process group (wrk and its wrapping shell) so an abrupt exit kills it too. */
export function trackProcessGroup(pgid: number): () => void {
  groups.add(pgid);
  return () => groups.delete(pgid);
}
const TAIL_LINES = 40;

/** Starts a child process; its output is drained into a small ring buffer so it never blocks on a full pipe. */
export function startChild(options: StartOptions): Child {
  const [command, args] =
    options.core === undefined
      ? [options.command, [...options.args]]
      : pinned(options.core, options.command, options.args);
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let hasExited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      resolve();
    });
    child.once('error', (error) => {
      lines.push(`spawn error: ${error.message}`);
      hasExited = true;
      resolve();
    });
  });
  const handle: Child = {
    name: options.name,
    pid: child.pid ?? -1,
    process: child,
    startedAt,
    tail: () => lines.join('\n'),
    exited: () => hasExited,
    async stop() {
      running.delete(handle);
      if (hasExited) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => true), sleep(3000).then(() => false)]);
      if (!killed) {
        for (const pid of processTree(handle.pid).reverse()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await Promise.race([exit, sleep(2000)]);
      }
    },
  };
  running.add(handle);
  return handle;
}

/** Stops every child still running (used on exit and on SIGINT). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

/** Makes sure children do not outlive the harness, whatever way it ends. */
export function installCleanup(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    void stopAllChildren().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // On an abrupt exit only synchronous work runs: kill whole trees, since a SIGKILLed nginx master
  // leaves its workers behind.
  process.once('exit', () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const child of running) {
      if (child.exited()) continue;
      for (const pid of processTree(child.pid).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  });
}

/** A free TCP port on loopback (asked from the kernel, so runs never collide with other work here). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** One HTTP exchange with the body read in full. */
export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The request a load run sends (the same for every request). */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends one request and reads the whole answer; bounded by a timeout. */
export async function exchange(origin: string, spec: RequestSpec, timeoutMs = 5000): Promise<Exchange> {
  const response = await request(`${origin}${spec.path}`, {
    method: spec.method,
    headers: spec.headers ?? {},
    body: spec.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  // A gzip answer (the compressed scenario asks for one) is checked decoded.
  if (response.headers['content-encoding'] === 'gzip') {
    const bytes = Buffer.from(await response.body.arrayBuffer());
    return {
      status: response.statusCode,
      headers: response.headers,
      body: gunzipSync(bytes).toString('utf8'),
    };
  }
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

/**
 * Polls until `ready` answers 2xx, the child exits, or the timeout passes; returns the time from
 * spawn to the first 2xx, in ms (the startup time reported by the scaling runs).
 */
export async function waitUntilReady(
  child: Child | undefined,
  origin: string,
  spec: RequestSpec,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    if (child?.exited()) throw new Error(`${child.name} exited during startup:\n${child.tail()}`);
    try {
      const answer = await exchange(origin, spec, 1000);
      if (answer.status >= 200 && answer.status < 300) return performance.now() - (child?.startedAt ?? 0);
      last = `status ${answer.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(10);
  }
  throw new Error(
    `${child?.name ?? origin} not ready after ${timeoutMs} ms (${last})${child ? `:\n${child.tail()}` : ''}`,
  );
}

/** The pid and every descendant (nginx workers, cluster children), found through /proc. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // The process ended while /proc was being read.
    }
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) tree.push(...(parents.get(tree[index]!) ?? []));
  return tree;
}

/** Resident set size of a process and its descendants, in bytes (VmRSS from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${member}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU seconds (user + system) used so far by a process and its descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks / USER_HZ;
}
