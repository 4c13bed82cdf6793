/** A description of the machine and software a run measured, printed with every result. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** What the results were measured on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  os: string;
  node: string;
  wrk: string;
  nginx: string;
  packages: Record<string, string>;
}

function firstLineOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) return 'not installed';
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0]!.trim();
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Collects the machine description. */
export function machineInfo(): MachineInfo {
  let osName = os.type();
  try {
    osName = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // Not Linux-like; keep os.type().
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    os: osName,
    node: process.version,
    wrk: firstLineOf('wrk', ['-v']).replace(/ Copyright.*/, ''),
    nginx: firstLineOf('nginx', ['-v']).replace('nginx version: ', ''),
    packages: Object.fromEntries(
      [
        'undici',
        'fast-gateway',
        'fastify',
        '@fastify/http-proxy',
        'express-gateway',
        'mercurius',
        'graphql',
      ].map((name) => [name, packageVersion(name)]),
    ),
  };
}

/** The machine description as Markdown bullet points. */
export function machineMarkdown(info: MachineInfo): string {
  return [
    `- CPU: ${info.cpu}, ${info.cores} cores; ${info.memoryGb} GB RAM`,
    `- OS: ${info.os}, kernel ${info.kernel}`,
    `- Node ${info.node}; ${info.wrk}; ${info.nginx}`,
    `- Peers: ${Object.entries(info.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
  ].join('\n');
}
