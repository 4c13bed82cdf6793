/** Starts the fixed-delay backend (delay-server.ts) pinned to the load core. */
import { fileURLToPath } from 'node:url';
import { LOAD_CORE } from '../lib/cores.ts';
import { freePort, startChild, waitUntilReady } from '../lib/process.ts';
import type { RunningBackend } from './static-backend.ts';

const SERVER = fileURLToPath(new URL('./delay-server.ts', import.meta.url));

/** Starts a backend that answers every GET after `delayMs`. */
export async function startDelayBackend(delayMs: number): Promise<RunningBackend> {
  const port = await freePort();
  const child = startChild({
    name: `delay-backend-${delayMs}ms`,
    command: process.execPath,
    args: [SERVER, String(port), String(delayMs)],
    core: LOAD_CORE,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, url, { method: 'GET', path: '/' }, 10_000);
  return { url, child };
}
