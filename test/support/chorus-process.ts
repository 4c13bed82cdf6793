/** A real `chorus start` process for process-level tests: its URL, its log lines, its stop. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/chorus.js', import.meta.url));

/** A running `chorus start`. */
export interface ChorusProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every stdout line so far, parsed when JSON. */
  readonly lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves when a log line matches (or rejects after timeoutMs). */
  waitForLine(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `chorus start <args>` and waits (up to 20 s) for its "listening" line. */
export async function startChorus(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<ChorusProcess> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CHORUS_LOG_LEVEL: 'info', ...env },
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = partial + String(chunk);
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (part.trim() === '') continue;
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ msg: part });
      }
    }
    for (const wake of waiters) wake();
  });
  const waitForLine = (
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(match);
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const [code] = await exited;
    clearTimeout(killer);
    return code;
  };
  let listening: Record<string, unknown>;
  try {
    listening = await Promise.race([
      waitForLine((line) => typeof line.msg === 'string' && line.msg.startsWith('chorus listening on')),
      exited.then(([code]) => {
        throw new Error(`chorus start exited (${code}) before listening: ${stderr}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url: String(listening.url), lines, stderr: () => stderr, waitForLine, stop };
}
