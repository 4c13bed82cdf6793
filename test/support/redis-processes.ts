/**
 * Private `redis-server` processes for the Redis Cluster and Sentinel tests: spawned on free ports
 * in a temporary directory (nothing kept on disk), killed and removed by stop(); redis-cli, a
 * bounded wait, and the "start it or skip loudly (fail under CI=true)" rule they share.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** Runs redis-cli against a local port; its output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 });
  return stdout;
}

/** Polls `condition` every 100 ms (a throw counts as not yet) until it holds; throws after `timeoutMs`. */
export async function waitUntil(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The processes of one setup, by port, and their directory. */
export interface RedisProcesses {
  readonly dir: string;
  readonly processes: Map<number, ChildProcess>;
  /** Starts a redis-server on `port` with persistence off, plus `extra` flags. */
  server(port: number, ...extra: string[]): void;
  /** Kills every process (SIGKILL) and removes the directory. */
  stop(): Promise<void>;
}

/** A temporary directory (named after `name`) and the processes to come. */
export async function redisProcesses(name: string): Promise<RedisProcesses> {
  const dir = await mkdtemp(path.join(tmpdir(), `chorus-${name}-`));
  const processes = new Map<number, ChildProcess>();
  return {
    dir,
    processes,
    server(port, ...extra) {
      // biome-ignore format: one flag and its value a line
      processes.set(port, spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra,
      ], { stdio: 'ignore' }));
    },
    async stop() {
      await Promise.all(
        [...processes.values()].map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGKILL');
          await once(child, 'exit');
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a setup for a suite: its handle, or (outside CI) a skip reason printed once loudly.
 * Under CI=true a setup that cannot start throws: its tests must run there.
 */
export async function requireRedisSetup<Handle>(
  what: string,
  start: () => Promise<Handle>,
): Promise<Handle | string> {
  try {
    return await start();
  } catch (error) {
    const reason = `cannot start a local ${what} (redis-server and redis-cli 7 on PATH): ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${reason} — and CI=true, so its tests cannot be skipped`);
    console.warn(`SKIP ${what} tests: ${reason}`);
    return reason;
  }
}
