/**
 * The benchmark's peers (fast-gateway, fastify, @fastify/http-proxy, express-gateway, mercurius)
 * live in bench/package.json, not in the root package: a user installing Chorus does not download
 * them. `npm run bench` and `node bench/scaling.ts` install them on first use, from
 * bench/package-lock.json (`npm ci --prefix bench`), and again when that lock changes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));

/** Installs the peers when bench/node_modules is missing or older than bench/package-lock.json. */
export function ensurePeers(log: (message: string) => void = (message) => console.error(message)): void {
  const lock = `${BENCH_DIR}package-lock.json`;
  const installed = `${BENCH_DIR}node_modules/.package-lock.json`;
  if (existsSync(installed) && sameLock(lock, installed)) return;
  log(
    'bench: installing the benchmark peers into bench/node_modules (npm ci --prefix bench; first run only)',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund', '--loglevel=error'],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 300_000,
    },
  );
  if (result.status !== 0) {
    log(
      `bench: installing the peers failed (exit ${result.status ?? result.signal}); run npm ci --prefix bench`,
    );
    process.exit(2);
  }
}

/** Whether the installed tree was made from this lock (npm writes its packages into node_modules/.package-lock.json). */
function sameLock(lockFile: string, installedFile: string): boolean {
  type Lock = { packages?: Record<string, { version?: string; optional?: boolean }> };
  const wanted = JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;
  const have = JSON.parse(readFileSync(installedFile, 'utf8')) as Lock;
  for (const [name, entry] of Object.entries(wanted.packages ?? {})) {
    if (name === '') continue;
    const installed = have.packages?.[name];
    // Optional packages for other platforms (fsevents on Linux) are never installed.
    if (installed === undefined && entry.optional === true) continue;
    if (installed?.version !== entry.version) return false;
  }
  return true;
}
