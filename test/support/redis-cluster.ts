/**
 * A real, private Redis Cluster for tests: six `redis-server` processes in cluster mode (three
 * masters, three replicas) on free ports in a temporary directory, joined by
 * `redis-cli --cluster create`, started in a few seconds and removed after. Under CI=true a
 * cluster that cannot start fails the suite; elsewhere it is skipped with one loud line.
 */
import path from 'node:path';
import { freePort } from './chorus-process.ts';
import { cli, redisProcesses, requireRedisSetup, run, waitUntil } from './redis-processes.ts';

/** A running cluster. */
export interface RedisClusterHandle {
  /** redis:// URLs of every node. */
  readonly urls: string[];
  /** The port of the master serving a key. */
  masterOf(key: string): Promise<number>;
  /** Kills a node (SIGKILL: a crash, as a failover test wants). */
  kill(port: number): void;
  /** Resolves when every live node says cluster_state:ok and the key's slot has a live master. */
  waitHealthy(key: string, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** How long a node may be unreachable before its replica takes over (ms). */
export const NODE_TIMEOUT_MS = 1000;

/** Starts a six-node cluster; rejects (within ~20 s) when it cannot. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const { dir, processes, server, stop } = await redisProcesses('redis-cluster');
  try {
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    for (const port of ports) {
      // A replica takes over however old its copy (a fresh cluster's may not have synced yet).
      // biome-ignore format: one flag and its value a line
      server(port,
        '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--cluster-replica-validity-factor', '0');
    }
    await waitUntil(async () => {
      for (const port of ports) if ((await cli(port, 'ping').catch(() => '')).trim() !== 'PONG') return false;
      return true;
    }, 10_000);
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 20_000 },
    );
    const handle: RedisClusterHandle = {
      urls: ports.map((p) => `redis://127.0.0.1:${p}`),
      async masterOf(key) {
        const live = ports.find(
          (p) => processes.get(p)?.exitCode === null && processes.get(p)?.signalCode === null,
        )!;
        const slot = Number((await cli(live, 'cluster', 'keyslot', key)).trim());
        const nodes = await cli(live, 'cluster', 'nodes');
        for (const line of nodes.split('\n')) {
          const fields = line.split(' ');
          if (!fields[2]?.includes('master') || fields[2].includes('fail')) continue;
          for (const range of fields.slice(8)) {
            const [from, to] = range.split('-').map(Number);
            if (from !== undefined && slot >= from && slot <= (to ?? from))
              return Number(fields[1]!.split(':')[1]!.split('@')[0]);
          }
        }
        throw new Error(`no live master for slot ${slot}`);
      },
      kill(port) {
        processes.get(port)?.kill('SIGKILL');
      },
      async waitHealthy(key, timeoutMs) {
        let master = 0;
        await waitUntil(async () => {
          for (const port of ports) {
            const child = processes.get(port)!;
            if (child.exitCode !== null || child.signalCode !== null) continue;
            if (!(await cli(port, 'cluster', 'info').catch(() => '')).includes('cluster_state:ok'))
              return false;
          }
          master = await handle.masterOf(key).catch(() => 0);
          return master !== 0 && processes.get(master)?.signalCode === null;
        }, timeoutMs);
        return master;
      },
      stop,
    };
    await handle.waitHealthy('x', 15_000);
    // Every replica in sync with its master, so a failover starts from a full copy.
    await waitUntil(async () => {
      for (const port of ports) {
        const info = await cli(port, 'info', 'replication');
        if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
      }
      return true;
    }, 15_000);
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts a cluster for a suite: the handle, or (outside CI) a skip reason printed once loudly. */
export function requireRedisCluster(): Promise<RedisClusterHandle | string> {
  return requireRedisSetup('Redis Cluster', startRedisCluster);
}
