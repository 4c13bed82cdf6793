/**
 * A real, private Redis Sentinel setup for tests: a master, a replica and one sentinel
 * (`redis-server --sentinel`, quorum 1, down after 1 s) on free ports in a temporary directory,
 * removed after. Under CI=true one that cannot start fails the suite; elsewhere it is skipped with
 * one loud line.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './chorus-process.ts';
import { cli, redisProcesses, requireRedisSetup, waitUntil } from './redis-processes.ts';

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

/** Starts master, replica and sentinel; rejects (within ~20 s) when it cannot. */
export async function startRedisSentinel(): Promise<RedisSentinelHandle> {
  const { dir, processes, server, stop } = await redisProcesses('redis-sentinel');
  try {
    const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
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
export function requireRedisSentinel(): Promise<RedisSentinelHandle | string> {
  return requireRedisSetup('Redis Sentinel', startRedisSentinel);
}
