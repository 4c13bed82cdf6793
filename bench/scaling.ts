/**
 * Scaling curves: how cost per request, startup time and RSS move as the config and the traffic grow.
 *
 *   node bench/scaling.ts [--quick] [--curve endpoints,payload,fanout,fanout-delay] [--target x,y]
 *                         [--duration s] [--rounds n] [--json] [--update-docs]
 *
 * - endpoints: 10 → 10,000 passthrough endpoints, load spread over all: startup, RSS, CPU µs/request.
 * - payload: passthrough of 1 KB → 1 MB: req/s, MB/s, CPU µs/request.
 * - fanout: 1 → 50 parallel calls to static leaves per request: req/s and CPU µs per request and per call.
 * - fanout-delay: 1 → 50 parallel calls to leaves that take 20 ms, paced at a modest fixed rate:
 *   p50/p99 against the target (p50 ≤ 25 ms up to N = 50).
 * - workers: `chorus start --workers N` for N = 1 (pinned to the gateway core) and N = 2 (both
 *   cores, shared with the load generator and the backends: on this 2-core machine N = 2 measures
 *   the cost of the cluster, not a clean doubling). The projection method is in docs/performance.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hasTwoCores } from './lib/cores.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import {
  addRatios,
  type MeasureOptions,
  measureScenario,
  type ScenarioOutcome,
  type TargetOutcome,
} from './lib/measure.ts';
import { ensurePeers } from './lib/peers.ts';
import { installCleanup } from './lib/process.ts';
import { note } from './lib/report.ts';
import { missingTools } from './lib/tools.ts';
import { loadScenario } from './scenarios/index.ts';
import { TARGET_NAMES, type TargetName } from './scenarios/types.ts';

/** One curve: the scenario at each x, the targets, and what to measure. */
interface Curve {
  name: string;
  title: string;
  xLabel: string;
  points: (quick: boolean) => number[];
  scenario: (x: number) => { name: string; params: Record<string, number> };
  targets: TargetName[];
  /** Latency-only: paced at this rate, no saturation runs. */
  pacedRate?: number;
  /** Environment for the targets at each x (read by bench/targets/chorus.ts). */
  env?: (x: number) => Record<string, string>;
  columns: { header: string; value: (t: TargetOutcome, x: number) => number | undefined; digits: number }[];
}

const KB = 1024;
const perCall = (t: TargetOutcome, x: number) =>
  t.cpuUsPerRequest ? t.cpuUsPerRequest.median / x : undefined;

const CURVES: Curve[] = [
  {
    name: 'endpoints',
    title: 'endpoint count (passthrough endpoints, load spread over all)',
    xLabel: 'endpoints',
    points: (quick) => (quick ? [10, 1000] : [10, 100, 1000, 10_000]),
    scenario: (count) => ({ name: 'endpoints', params: { count } }),
    targets: ['handwritten', 'nginx', 'chorus'],
    columns: [
      { header: 'startup ms', value: (t) => t.startupMs, digits: 0 },
      { header: 'RSS idle MB', value: (t) => t.rssIdleMb, digits: 0 },
      { header: 'RSS loaded MB', value: (t) => t.rssLoadedMb, digits: 0 },
      { header: 'req/s', value: (t) => t.rps?.median, digits: 0 },
      { header: 'CPU µs/req', value: (t) => t.cpuUsPerRequest?.median, digits: 0 },
    ],
  },
  {
    name: 'payload',
    title: 'payload size (passthrough)',
    xLabel: 'bytes',
    points: (quick) => (quick ? [KB, 1024 * KB] : [KB, 10 * KB, 100 * KB, 1024 * KB]),
    scenario: (bytes) => ({ name: 'passthrough', params: { bytes } }),
    targets: ['handwritten', 'nginx', 'fastify-http-proxy', 'chorus'],
    columns: [
      { header: 'req/s', value: (t) => t.rps?.median, digits: 0 },
      { header: 'MB/s', value: (t, x) => (t.rps ? (t.rps.median * x) / (KB * KB) : undefined), digits: 1 },
      { header: 'CPU µs/req', value: (t) => t.cpuUsPerRequest?.median, digits: 0 },
      { header: 'p99 ms', value: (t) => t.p99Ms?.median, digits: 1 },
      { header: 'RSS loaded MB', value: (t) => t.rssLoadedMb, digits: 0 },
    ],
  },
  {
    name: 'fanout',
    title: 'fan-out (parallel calls per request, static leaves)',
    xLabel: 'calls',
    points: (quick) => (quick ? [1, 10, 50] : [1, 5, 10, 20, 50]),
    scenario: (n) => ({ name: 'fanout', params: { n, delayMs: 0 } }),
    targets: ['handwritten', 'graphql-mercurius', 'chorus'],
    columns: [
      { header: 'req/s', value: (t) => t.rps?.median, digits: 0 },
      { header: '× hand', value: (t) => t.ratio, digits: 2 },
      { header: '× hand CPU', value: (t) => t.cpuRatio, digits: 2 },
      { header: 'CPU µs/req', value: (t) => t.cpuUsPerRequest?.median, digits: 0 },
      { header: 'CPU µs/call', value: perCall, digits: 1 },
      { header: 'RSS loaded MB', value: (t) => t.rssLoadedMb, digits: 0 },
    ],
  },
  {
    name: 'fanout-delay',
    title: 'fan-out to leaves taking 20 ms each, paced at 50 req/s (target: p50 ≤ 25 ms up to 50 calls)',
    xLabel: 'calls',
    points: (quick) => (quick ? [1, 50] : [1, 5, 10, 20, 50]),
    scenario: (n) => ({ name: 'fanout', params: { n, delayMs: 20 } }),
    // direct: one call to the delay backend, the latency floor the others are compared with.
    targets: ['direct', 'handwritten', 'graphql-mercurius', 'chorus'],
    pacedRate: 50,
    columns: [
      { header: 'p50 ms', value: (t) => t.paced?.p50Ms.median, digits: 1 },
      { header: 'p99 ms', value: (t) => t.paced?.p99Ms.median, digits: 1 },
      {
        header: 'errors',
        value: (t) =>
          t.paced ? t.paced.non2xx + t.paced.badBody + t.paced.errors + t.paced.unanswered : undefined,
        digits: 0,
      },
    ],
  },
  {
    name: 'workers',
    title: 'chorus start --workers N (passthrough; N = 2 shares both cores with wrk and the backend)',
    xLabel: 'workers',
    points: () => [1, 2],
    scenario: () => ({ name: 'passthrough', params: { bytes: 1024 } }),
    targets: ['handwritten', 'chorus'],
    env: (workers) => ({ CHORUS_BENCH_WORKERS: String(workers) }),
    columns: [
      { header: 'req/s', value: (t) => t.rps?.median, digits: 0 },
      { header: 'CPU µs/req', value: (t) => t.cpuUsPerRequest?.median, digits: 0 },
      { header: 'p99 ms', value: (t) => t.p99Ms?.median, digits: 1 },
      { header: 'RSS loaded MB', value: (t) => t.rssLoadedMb, digits: 0 },
    ],
  },
];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    curve: { type: 'string' },
    target: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    json: { type: 'boolean', default: false },
    'update-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: node bench/scaling.ts [--quick] [--curve ${CURVES.map((c) => c.name).join(',')}]
       [--target ${TARGET_NAMES.join(',')}] [--duration s] [--rounds n] [--json] [--update-docs]`);
  process.exit(0);
}
ensurePeers();
const missing = missingTools();
if (missing || !hasTwoCores()) {
  console.error(`bench: ${missing ?? 'needs 2 cores'}`);
  process.exit(2);
}

const quick = values.quick;
const options: MeasureOptions = {
  durationS: Number(values.duration ?? (quick ? 2 : 5)),
  rounds: Number(values.rounds ?? (quick ? 1 : 2)),
  warmupS: quick ? 1 : 3,
  connections: 64,
  pacedFraction: 0,
  log: (message) => console.error(message),
};
const curveNames = values.curve?.split(',') ?? CURVES.map((c) => c.name);
const requested = values.target?.split(',');

installCleanup();
const startedAt = new Date();
const report: {
  curve: string;
  title: string;
  xLabel: string;
  points: { x: number; result: ScenarioOutcome }[];
}[] = [];
for (const curve of CURVES.filter((c) => curveNames.includes(c.name))) {
  const points: { x: number; result: ScenarioOutcome }[] = [];
  for (const x of curve.points(quick)) {
    const ref = curve.scenario(x);
    const scenario = loadScenario(ref);
    const targets = curve.targets.filter((t) => !requested || requested.includes(t) || t === 'handwritten');
    console.error(`curve ${curve.name}, ${curve.xLabel} = ${x}: ${targets.join(', ')}`);
    Object.assign(process.env, curve.env?.(x));
    const result = await measureScenario(scenario, targets, {
      ...options,
      ...(curve.pacedRate === undefined ? {} : { pacedRate: curve.pacedRate, skipSaturation: true }),
    });
    addRatios(result);
    for (const name of Object.keys(curve.env?.(x) ?? {})) delete process.env[name];
    points.push({ x, result });
  }
  report.push({ curve: curve.name, title: curve.title, xLabel: curve.xLabel, points });
}

function cell(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** One table per curve: a row per (x, target), a column per measure. */
function tables(markdown: boolean): string {
  const out: string[] = [];
  for (const entry of report) {
    const curve = CURVES.find((c) => c.name === entry.curve)!;
    const headers = [curve.xLabel, 'target', ...curve.columns.map((c) => c.header), 'note'];
    const rows = entry.points.flatMap(({ x, result }) =>
      result.targets.map((t) =>
        t.status === 'ok'
          ? [String(x), t.target, ...curve.columns.map((c) => cell(c.value(t, x), c.digits)), note(t)]
          : [String(x), t.target, `${t.status}: ${t.reason}`],
      ),
    );
    if (markdown) {
      out.push(`#### ${entry.curve} — ${entry.title}`, '');
      out.push(
        `| ${headers.join(' | ')} |`,
        `|${headers.map((_, i) => (i === 1 || i === headers.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
      );
      for (const row of rows)
        out.push(`| ${[...row, ...Array(headers.length - row.length).fill('')].join(' | ')} |`);
      out.push('');
    } else {
      out.push('', `${entry.curve} — ${entry.title}`);
      const full = [headers, ...rows.filter((r) => r.length === headers.length)];
      const widths = headers.map((_, i) => Math.max(...full.map((r) => (r[i] ?? '').length)));
      for (const row of [headers, ...rows]) {
        out.push(
          `  ${row
            .map((c, i) =>
              i === 1 || i === headers.length - 1 || row.length !== headers.length
                ? c.padEnd(widths[i] ?? 0)
                : c.padStart(widths[i]!),
            )
            .join('  ')
            .trimEnd()}`,
        );
      }
    }
  }
  return out.join('\n');
}

const machine = machineInfo();
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const saved = `${resultsDir}scaling-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
const json = {
  startedAt: startedAt.toISOString(),
  machine,
  options: { ...options, log: undefined, quick },
  curves: report,
};
writeFileSync(saved, `${JSON.stringify(json, null, 2)}\n`);
if (values.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
else console.log(`${tables(false)}\n\n${quick ? 'QUICK SMOKE RUN — not a measurement. ' : ''}Saved ${saved}`);

if (values['update-docs']) {
  const docs = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
  const START = '<!-- bench:scaling:start -->';
  const END = '<!-- bench:scaling:end -->';
  const text = readFileSync(docs, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) {
    console.error(`bench: ${docs} has no ${START} … ${END} section to update`);
    process.exit(1);
  }
  const section = [
    START,
    '',
    `Run of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`node bench/scaling.ts ${process.argv
      .slice(2)
      .filter((a) => a !== '--update-docs')
      .join(
        ' ',
      )}\` (${options.rounds} round(s) × ${options.durationS} s${quick ? '; a quick smoke run, not a measurement' : ''}).`,
    '',
    machineMarkdown(machine),
    '',
    tables(true),
    END,
  ].join('\n');
  writeFileSync(docs, `${text.slice(0, from)}${section}${text.slice(to + END.length)}`);
  console.error(`updated ${docs}`);
}
