/**
 * RSS of the MediaCo gateway under mixed load (docs/performance.md, "Memory").
 *
 * Starts the MediaCo demo providers in this process, then `chorus start` on a copy of
 * examples/mediaco/gateway.yaml in its own process (so the figures are the gateway's alone), with
 * the plan and search rate limits raised so the load is answered rather than refused with 429.
 * Drives a mix with wrk (items of all four providers — mostly cache hits after the first of each
 * id —, searches, related items), paced to about --rate req/s, then idles. Samples VmRSS and, through
 * bench/lib/memory-probe.ts (SIGUSR2), the heap: before load, at the end of load, after the idle.
 *
 * Usage: node bench/memory.ts [--duration 30] [--idle 30] [--rate 700] [--connections 16]
 *                              [--node-flags="--max-semi-space-size=8"] [--env K=V,...] [--full-gc]
 *                              [--gateway-log FILE]
 * --full-gc adds a last sample after a full GC (the live heap); --gateway-log keeps the gateway's
 * stdout (e.g. with --node-flags --trace-gc).
 * --rate 0 runs unpaced (saturation; wrk's req/s is the throughput).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDemoBackends } from '../examples/mediaco/backends/servers.ts';
import { mediacoBenchConfig } from './lib/mediaco-config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    idle: { type: 'string', default: '30' },
    rate: { type: 'string', default: '700' },
    connections: { type: 'string', default: '16' },
    'node-flags': { type: 'string', default: '' },
    env: { type: 'string', default: '' },
    'full-gc': { type: 'boolean', default: false },
    'gateway-log': { type: 'string' },
  },
});
const duration = Number(values.duration);
const idle = Number(values.idle);
const rate = Number(values.rate);
const connections = Number(values.connections);
const nodeFlags = values['node-flags'].split(' ').filter((flag) => flag !== '');
const extraEnv = Object.fromEntries(
  values.env
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

/** gateway.yaml with absolute paths to its files and rate limits that never refuse this load. */
function benchConfig(dir: string): string {
  const text = mediacoBenchConfig(root, 'limit: 100000, window: 1m');
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return file;
}

/** The wrk script: a fixed mix of paths, one per request in turn, paced by delay(). */
function wrkScript(dir: string): string {
  const paths: string[] = [];
  const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => `mc-0${from + i}`);
  const items = [...ids(1, 90), ...ids(101, 80), ...ids(201, 70), ...ids(301, 60)].map((id) =>
    id.replace(/^mc-0(\d)$/, 'mc-000$1').replace(/^mc-0(\d\d)$/, 'mc-00$1'),
  );
  const words = ['night', 'the', 'love', 'star', 'blue', 'a', 'city', 'sea', 'fire', 'winter'];
  for (let i = 0; i < 1000; i++) {
    const id = items[(i * 37) % items.length]!;
    if (i % 10 < 6) paths.push(`/catalog/items/${id}`);
    else if (i % 10 < 8) paths.push(`/catalog/search?q=${words[i % words.length]}&limit=10`);
    else paths.push(`/catalog/items/${id}/related`);
  }
  const delayMs = rate > 0 ? (connections * 1000) / rate : 0;
  const lua = `
local paths = { ${paths.map((p) => `"${p}"`).join(', ')} }
local n = 0
local bad = 0
wrk.headers["x-api-key"] = "mediaco-demo-pro-key"
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
${delayMs > 0 ? `function delay() return ${Math.round(delayMs)} end` : ''}
function response(status, headers, body)
  if status >= 300 then bad = bad + 1 end
end
`;
  const file = path.join(dir, 'mix.lua');
  writeFileSync(file, lua);
  return file;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'chorus-memory-'));
const backends = await startDemoBackends({ nats: false });
const port = await freePort();
const gateway = spawn(
  process.execPath,
  [
    ...nodeFlags,
    ...(values['full-gc'] ? ['--expose-gc'] : []),
    '--import',
    path.join(root, 'bench/lib/memory-probe.ts'),
    path.join(root, 'bin/chorus.js'),
    'start',
    benchConfig(dir),
    '--port',
    String(port),
    '--log-level',
    'warn',
  ],
  {
    env: { ...process.env, ...backends.gatewayEnv(), NODE_ENV: 'production', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let probeLine: ((line: string) => void) | undefined;
let stderrTail = '';
gateway.stderr.setEncoding('utf8');
gateway.stderr.on('data', (chunk: string) => {
  for (const line of chunk.split('\n')) {
    if (line.startsWith('memory-probe ')) probeLine?.(line.slice('memory-probe '.length));
    else if (line !== '') stderrTail = `${stderrTail}${line}\n`.slice(-4000);
  }
});
if (values['gateway-log'] === undefined) gateway.stdout.resume();
else gateway.stdout.pipe(createWriteStream(values['gateway-log']));
const origin = `http://127.0.0.1:${port}`;

/** The gateway process's VmRSS (MB), and of its children when chorus re-executes itself. */
function rssMb(): number {
  const pids = [gateway.pid!];
  try {
    const children = readFileSync(`/proc/${gateway.pid}/task/${gateway.pid}/children`, 'utf8').trim();
    if (children !== '') pids.push(...children.split(' ').map(Number));
  } catch {}
  let kb = 0;
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return Math.round(kb / 1024);
}

async function probe(label: string): Promise<Record<string, unknown>> {
  const got = new Promise<string>((resolve) => {
    probeLine = resolve;
  });
  gateway.kill('SIGUSR2');
  const line = await Promise.race([got, sleep(2000).then(() => '{}')]);
  const sample = { label, vmRssMb: rssMb(), ...(JSON.parse(line) as Record<string, unknown>) };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
  return sample;
}

/** A heap space as "reserved/physical MB". */
function space(sample: Record<string, unknown>, name: string): string {
  const found = (sample.spaces as Record<string, { size: number; physical: number }> | undefined)?.[name];
  return found === undefined ? '?' : `${found.size}/${found.physical} MB`;
}

async function ready(): Promise<void> {
  for (let i = 0; i < 200 && gateway.exitCode === null; i++) {
    const res = await fetch(`${origin}/readyz`).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.ok) return;
    await sleep(50);
  }
  throw new Error(`the gateway did not become ready:\n${stderrTail}`);
}

try {
  await ready();
  await sleep(2000);
  const samples = [await probe('before load')];
  const peak = { rss: 0 };
  const sampler = setInterval(() => {
    peak.rss = Math.max(peak.rss, rssMb());
  }, 1000);
  const wrk = spawn(
    'wrk',
    ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', wrkScript(dir), origin],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let wrkOut = '';
  wrk.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    wrkOut += chunk;
  });
  await new Promise((resolve) => wrk.once('exit', resolve));
  samples.push(await probe('end of load'));
  clearInterval(sampler);
  await sleep(idle * 1000);
  samples.push(await probe(`after ${idle} s idle`));
  if (values['full-gc']) samples.push(await probe('after a full GC'));
  const reqs = /Requests\/sec:\s+([\d.]+)/.exec(wrkOut)?.[1];
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(wrkOut)?.[1] ?? '0';
  const p99 = /99%\s+(\S+)/.exec(wrkOut)?.[1];
  process.stdout.write(
    `\nflags: ${nodeFlags.join(' ') || '(none)'} env: ${values.env || '(none)'}  rate: ${rate || 'unpaced'} c=${connections}\n` +
      `wrk: ${reqs} req/s, non-2xx ${non2xx}, p99 ${p99}; peak VmRSS ${peak.rss} MB\n` +
      samples
        .map(
          (s) =>
            `${String(s.label).padEnd(16)} VmRSS ${s.vmRssMb} MB  heapUsed ${s.heapUsed} / heapTotal ${s.heapTotal} MB  ` +
            `new ${space(s, 'new_space')}  old ${space(s, 'old_space')}  ` +
            `external ${s.external} MB (arrayBuffers ${s.arrayBuffers})`,
        )
        .join('\n') +
      '\n',
  );
} finally {
  if (gateway.exitCode === null && gateway.signalCode === null) {
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));
  }
  await backends.close();
  rmSync(dir, { recursive: true, force: true });
}
