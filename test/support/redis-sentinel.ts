/**
 * A real, private Redis Sentinel setup for tests: a master, a replica and one sentinel
 * (`redis-server --sentinel`, quorum 1, down after 1 s) on free ports in a temporary directory,
 * removed after. Under CI=true one that cannot start fails the suite; elsewhere it is skipped with
 * one loud line.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './chorus-process.ts';

const run = promisify(execFile);

/** The master name the sentinel monitors. */
export const SENTINEL_MASTER = 'chorus-test';

export interface RedisSentinelHandle {
  readonly sentinelUrl: string;
  readonly masterPort: number;
  readonly replicaPort: number;
  /** Kills the current master (SIGKILL). */
  killMaster(): void;
  /** The port the sentinel names master now. */
  currentMaster(): Promise<number>;
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 });
  return stdout;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts master, replica and sentinel; rejects (within ~20 s) when it cannot. */
export async function startRedisSentinel(): Promise<RedisSentinelHandle> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chorus-redis-sentinel-'));
  const processes = new Map<number, ChildProcess>();
  const stop = async (): Promise<void> => {
    await Promise.all(
      [...processes.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await once(child, 'exit');
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    const server = (port: number, ...extra: string[]): void => {
      // biome-ignore format: one flag and its value a line
      processes.set(port, spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra,
      ], { stdio: 'ignore' }));
    };
    server(masterPort!);
    server(replicaPort!, '--replicaof', '127.0.0.1', String(masterPort));
    const config = path.join(dir, 'sentinel.conf');
    await writeFile(
      config,
      `port ${sentinelPort}
bind 127.0.0.1
sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 1
sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000
sentinel failover-timeout ${SENTINEL_MASTER} 5000
sentinel parallel-syncs ${SENTINEL_MASTER} 1
`,
    );
    processes.set(sentinelPort!, spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' }));
    await waitUntil(
      async () => (await cli(replicaPort!, 'info', 'replication')).includes('master_link_status:up'),
      15_000,
      'replica in sync',
    );
    await waitUntil(
      async () =>
        (await cli(sentinelPort!, 'sentinel', 'replicas', SENTINEL_MASTER)).includes(String(replicaPort)),
      15_000,
      'the sentinel knows the replica',
    );
    const handle: RedisSentinelHandle = {
      sentinelUrl: `redis://127.0.0.1:${sentinelPort}`,
      masterPort: masterPort!,
      replicaPort: replicaPort!,
      killMaster: () => processes.get(masterPort!)?.kill('SIGKILL'),
      currentMaster: async () =>
        Number(
          (await cli(sentinelPort!, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER))
            .trim()
            .split('\n')[1],
        ),
      stop,
    };
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts one for a suite: the handle, or (outside CI) a skip reason printed once loudly. */
export async function requireRedisSentinel(): Promise<RedisSentinelHandle | string> {
  try {
    return await startRedisSentinel();
  } catch (error) {
    const reason = `cannot start a local Redis Sentinel (redis-server and redis-cli 7 on PATH): ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${reason} — and CI=true, so its tests cannot be skipped`);
    console.warn(`SKIP redis sentinel tests: ${reason}`);
    return reason;
  }
}
