/**
 * The message brokers of this machine, for integration tests: where they are, whether they are
 * up, a private nats-server for outage tests, and a TCP proxy a test can cut.
 *
 * A suite that needs a broker asks requireBroker() for its `skip` option. When the broker is
 * down the suite is skipped with one loud line, except under CI=true, where a missing broker is
 * a failure: CI must run every test (.ci/run starts the brokers).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, constants } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** The NATS server the tests use (NATS_URL overrides). */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** The RabbitMQ server the tests use (AMQP_URL overrides). */
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** The Redis server the tests use (REDIS_URL overrides). Tests use their own key prefix; never FLUSHALL. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type BrokerName = 'nats' | 'rabbitmq' | 'redis';

const DEFAULT_PORTS: Record<BrokerName, number> = { nats: 4222, rabbitmq: 5672, redis: 6379 };
const HOW_TO_START: Record<BrokerName, string> = {
  nats: 'nats-server -a 127.0.0.1 -p 4222 &  (or run .ci/run, which starts it)',
  rabbitmq: 'rabbitmq-server -detached  (or run .ci/run, which starts it)',
  redis: 'redis-server --daemonize yes  (or run .ci/run, which starts it)',
};

/** Host and port of a broker URL (the first one of a list); credentials are ignored. */
export function brokerAddress(name: BrokerName, url: string): { host: string; port: number } {
  const first = url.split(',')[0]!.trim();
  const parsed = new URL(first.includes('://') ? first : `nats://${first}`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port: parsed.port === '' ? DEFAULT_PORTS[name] : Number(parsed.port) };
}

/** Whether something accepts TCP connections at host:port (within timeoutMs). */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The `skip` option for a suite that needs a broker: false when it is reachable; else, outside
 * CI, a reason (printed once as a loud line); under CI=true it throws, failing the test file
 * with what to start.
 */
export async function requireBroker(name: BrokerName, url: string): Promise<string | false> {
  const { host, port } = brokerAddress(name, url);
  if (await isPortOpen(host, port)) return false;
  const what = name === 'nats' ? 'NATS' : name === 'redis' ? 'Redis' : 'RabbitMQ';
  if (process.env.CI === 'true') {
    throw new Error(
      `${what} is not reachable at ${host}:${port} and CI=true, so its tests cannot be skipped — start it with: ${HOW_TO_START[name]}`,
    );
  }
  const reason = `no ${what} at ${host}:${port}`;
  console.warn(`SKIP ${name} tests: ${reason} — start it with: ${HOW_TO_START[name]}`);
  return reason;
}

/** Where a server binary is: its env override, else the first executable of the usual places. */
async function findBinary(name: string, override: string | undefined): Promise<string | undefined> {
  const candidates = [override, `/usr/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/bin/${name}`];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there; try the next
    }
  }
  return undefined;
}

/** The `skip` option for a suite that starts its own server from a binary (same CI rule as requireBroker). */
async function requireBinary(
  name: string,
  envVar: string,
  found: string | undefined,
): Promise<string | false> {
  if (found !== undefined) return false;
  const message = `no ${name} binary (set ${envVar}, or install the ${name} package)`;
  if (process.env.CI === 'true') throw new Error(`${message} and CI=true, so its tests cannot be skipped`);
  console.warn(`SKIP private ${name} tests: ${message}`);
  return message;
}

/** Where the nats-server binary is, or undefined. */
export function findNatsServer(): Promise<string | undefined> {
  return findBinary('nats-server', process.env.NATS_SERVER_BIN);
}

/** The `skip` option for a suite that starts its own nats-server. */
export async function requireNatsServerBinary(): Promise<string | false> {
  return requireBinary('nats-server', 'NATS_SERVER_BIN', await findNatsServer());
}

/** Where the redis-server binary is, or undefined. */
export function findRedisServer(): Promise<string | undefined> {
  return findBinary('redis-server', process.env.REDIS_SERVER_BIN);
}

/** The `skip` option for a suite that starts its own redis-server. */
export async function requireRedisServerBinary(): Promise<string | false> {
  return requireBinary('redis-server', 'REDIS_SERVER_BIN', await findRedisServer());
}

/** A free TCP port on 127.0.0.1 (free when asked; a test uses it at once). */
export async function sparePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A nats-server of the test's own, on a spare port, that the test may stop and start again. */
export interface PrivateNatsServer {
  readonly url: string;
  readonly port: number;
  /** Starts the server (again) on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Creates (without starting) a private nats-server on a spare port; `args` are added to its command line. */
export async function privateNatsServer(args: readonly string[] = []): Promise<PrivateNatsServer> {
  const binary = await findNatsServer();
  if (binary === undefined) throw new Error('no nats-server binary');
  const port = await sparePort();
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      await stop();
      child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: 'ignore' });
      const until = Date.now() + 10_000;
      while (!(await isPortOpen('127.0.0.1', port, 200))) {
        if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
        if (Date.now() > until) throw new Error(`nats-server did not listen on ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop,
  };
}

/** A TCP proxy in front of a broker that a test can cut (every connection dropped) and restore. */
export interface CuttableProxy {
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Destroys every connection and stops listening: the broker looks gone. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on a spare 127.0.0.1 port forwarding to host:port. */
export async function startCuttableProxy(host: string, port: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const makeServer = (): Server =>
    createServer((client) => {
      const upstream = tcpConnect({ host, port });
      track(client);
      track(upstream);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
  let server: Server | undefined = makeServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxyPort = (server.address() as AddressInfo).port;
  const cut = async (): Promise<void> => {
    const listening = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (listening !== undefined) await new Promise((resolve) => listening.close(resolve));
  };
  return {
    port: proxyPort,
    get open() {
      return sockets.size;
    },
    cut,
    async restore() {
      if (server !== undefined) return;
      const next = makeServer();
      next.listen(proxyPort, '127.0.0.1');
      await once(next, 'listening');
      server = next;
    },
    close: cut,
  };
}

/** A redis-server of the test's own (no persistence), on a spare port, that the test may stop and start again. */
export interface PrivateRedisServer {
  readonly url: string;
  readonly port: number;
  /** Starts the server (again) on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, like a hung Redis. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
}

/** Creates (without starting) a private redis-server on a spare port. Never the machine's shared Redis. */
export async function privateRedisServer(): Promise<PrivateRedisServer> {
  const binary = await findRedisServer();
  if (binary === undefined) throw new Error('no redis-server binary');
  const port = await sparePort();
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      await stop();
      child = spawn(
        binary,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      const until = Date.now() + 10_000;
      while (!(await isPortOpen('127.0.0.1', port, 200))) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        if (Date.now() > until) throw new Error(`redis-server did not listen on ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}
