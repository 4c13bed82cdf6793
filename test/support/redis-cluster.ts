/**
 * A real, private Redis Cluster for tests: six `redis-server` processes in cluster mode (three
 * masters, three replicas) on free ports in a temporary directory, joined by
 * `redis-cli --cluster create`, started in a few seconds and removed after. Under CI=true a
 * cluster that cannot start fails the suite; elsewhere it is skipped with one loud line.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './chorus-process.ts';

const run = promisify(execFile);

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

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 });
  return stdout;
}

/** Starts a six-node cluster; rejects (within ~20 s) when it cannot. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chorus-redis-cluster-'));
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
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    for (const port of ports) {
      // biome-ignore format: one flag and its value a line
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--dir', dir,
        // A replica takes over however old its copy (a fresh cluster's may not have synced yet).
        '--cluster-replica-validity-factor', '0',
        '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      ], { stdio: 'ignore' });
      processes.set(port, child);
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

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts a cluster for a suite: the handle, or (outside CI) a skip reason printed once loudly.
 * Under CI=true a cluster that cannot start throws: its tests must run there.
 */
export async function requireRedisCluster(): Promise<RedisClusterHandle | string> {
  try {
    return await startRedisCluster();
  } catch (error) {
    const reason = `cannot start a local Redis Cluster (redis-server and redis-cli 7 on PATH): ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${reason} — and CI=true, so its tests cannot be skipped`);
    console.warn(`SKIP redis cluster tests: ${reason}`);
    return reason;
  }
}
