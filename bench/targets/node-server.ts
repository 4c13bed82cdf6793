/** Starting a peer implemented as a Node server script in this folder, pinned to the gateway core. */
import { fileURLToPath } from 'node:url';
import { GATEWAY_CORE } from '../lib/cores.ts';
import { freePort, type RequestSpec, startChild, waitUntilReady } from '../lib/process.ts';
import type { RunningTarget, ServerArgs, TargetContext } from './types.ts';

/** Options of a Node server target. */
export interface NodeServerOptions {
  name: string;
  /** Script file name in bench/targets. */
  script: string;
  request?: RequestSpec;
  unwrap?: (body: unknown) => unknown;
  env?: Record<string, string>;
  startupTimeoutMs?: number;
}

/** Spawns `node bench/targets/<script> <ServerArgs>` and waits until it answers the scenario request. */
export async function startNodeServer(
  context: TargetContext,
  options: NodeServerOptions,
): Promise<RunningTarget> {
  const port = await freePort();
  const args: ServerArgs = { scenario: context.scenario.ref, backends: context.backends, port };
  const child = startChild({
    name: options.name,
    command: process.execPath,
    // BENCH_PEER_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=…") profiles the peer, as CHORUS_BENCH_NODE_FLAGS does Chorus.
    args: [
      ...(process.env.BENCH_PEER_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
      fileURLToPath(new URL(`./${options.script}`, import.meta.url)),
      JSON.stringify(args),
    ],
    core: GATEWAY_CORE,
    env: { NODE_ENV: 'production', ...options.env },
  });
  const origin = `http://127.0.0.1:${port}`;
  const headers = context.scenario.requestHeaders;
  const request = options.request ?? {
    method: 'GET',
    path: context.scenario.path,
    ...(headers ? { headers } : {}),
  };
  try {
    const startupMs = await waitUntilReady(child, origin, request, options.startupTimeoutMs ?? 30_000);
    return {
      origin,
      request,
      unwrap: options.unwrap ?? ((body) => body),
      child,
      startupMs,
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** Reads the ServerArgs a child server was started with. */
export function serverArgs(): ServerArgs {
  return JSON.parse(process.argv[2] ?? '{}') as ServerArgs;
}
