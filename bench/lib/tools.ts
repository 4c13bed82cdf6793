/** The external tools the harness needs, and what to install when one is missing. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Whether an executable is on PATH (or at the sbin paths Debian installs nginx into). */
export function hasCommand(name: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0) return true;
  return ['/usr/sbin', '/sbin'].some((dir) => existsSync(`${dir}/${name}`));
}

/** Tools `npm run bench` cannot run without, with the Debian package providing each. */
const REQUIRED = [
  { command: 'wrk', pkg: 'wrk' },
  { command: 'nginx', pkg: 'nginx' },
  { command: 'taskset', pkg: 'util-linux' },
] as const;

/** The install hint for missing tools, or undefined when all are there. */
export function missingTools(): string | undefined {
  const missing = REQUIRED.filter((tool) => !hasCommand(tool.command));
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((tool) => tool.pkg))].join(' ');
  return `missing ${missing.map((tool) => tool.command).join(', ')}: install with \`apt-get install ${packages}\``;
}

const require = createRequire(import.meta.url);

/** Why an npm package cannot be loaded, or undefined when it resolves. */
export function missingPackage(name: string, install: string): string | undefined {
  try {
    require.resolve(name);
    return undefined;
  } catch {
    return `npm package ${name} is not installed (npm install --save-dev ${install})`;
  }
}
