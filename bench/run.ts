/**
 * `npm run bench`: every main scenario against every target that applies, side by side, in one run.
 *
 *   node bench/run.ts [--quick] [--scenario a,b] [--target x,y] [--duration s] [--rounds n]
 *                     [--warmup s] [--connections n] [--no-paced] [--json] [--update-docs]
 *
 * Prints a table (or JSON with --json) and always saves the JSON under bench/results/.
 * --update-docs rewrites the results section of docs/performance.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hasTwoCores } from './lib/cores.ts';
import { type MachineInfo, machineInfo, machineMarkdown } from './lib/machine.ts';
import { addRatios, type MeasureOptions, measureScenario, type ScenarioOutcome } from './lib/measure.ts';
import { ensurePeers } from './lib/peers.ts';
import { installCleanup } from './lib/process.ts';
import { markdownTable, textTable } from './lib/report.ts';
import { missingTools } from './lib/tools.ts';
import { loadScenario, MAIN_SCENARIOS, SCENARIOS } from './scenarios/index.ts';
import { TARGET_NAMES, type TargetName } from './scenarios/types.ts';

const USAGE = `usage: node bench/run.ts [options]
  --quick              short smoke run (1 round, 2 s runs, 1 s warm-up)
  --scenario <names>   comma-separated (default: ${MAIN_SCENARIOS.join(',')}; known: ${Object.keys(SCENARIOS).join(',')});
                       or memory alone: startup and RSS of chorus start (bench/footprint.ts)
  --target <names>     comma-separated (default: all that apply; handwritten is always kept for the ratio)
                       known: ${TARGET_NAMES.join(',')}
  --duration <s>       length of each load run (default 10)
  --rounds <n>         interleaved rounds per target (default 3)
  --warmup <s>         warm-up per target (default 5)
  --connections <n>    wrk connections (default 64)
  --no-paced           skip the paced runs at half the maximum rate
  --json               print JSON instead of the table
  --update-docs        write the table into docs/performance.md
  --from <file.json>   measure nothing: render a saved bench/results/run-*.json (with --json/--update-docs)`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    target: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'no-paced': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'update-docs': { type: 'boolean', default: false },
    from: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

// `--scenario memory` alone: startup and RSS of chorus start (one-service, MediaCo, 10 and 10,000
// endpoints), bench/footprint.ts with its defaults; a table of its own. (Memory side of issue 15.)
if (values.scenario === 'memory') {
  await import('./footprint.ts');
  process.exit(process.exitCode ?? 0);
}

/** What a run saves under bench/results/ and renders. */
interface RunReport {
  startedAt: string;
  /** The command-line arguments of the run (absent in files from before they were saved). */
  argv?: string[];
  machine: MachineInfo;
  options: Omit<MeasureOptions, 'log'> & { quick: boolean };
  results: ScenarioOutcome[];
}

if (values.from) {
  render(JSON.parse(readFileSync(values.from, 'utf8')) as RunReport, undefined);
  process.exit(0);
}

ensurePeers();
const missing = missingTools();
if (missing) {
  console.error(`bench: ${missing}`);
  process.exit(2);
}
if (!hasTwoCores()) {
  console.error('bench: needs 2 cores (the gateway on one, load generator and backends on the other)');
  process.exit(2);
}

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`bench: --${name} expects a positive number, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const quick = values.quick;
const options: MeasureOptions = {
  durationS: positive(values.duration, quick ? 2 : 10, 'duration'),
  rounds: Math.round(positive(values.rounds, quick ? 1 : 3, 'rounds')),
  warmupS: positive(values.warmup, quick ? 1 : 5, 'warmup'),
  connections: Math.round(positive(values.connections, 64, 'connections')),
  pacedFraction: values['no-paced'] ? 0 : 0.5,
  log: (message) => console.error(message),
};

const scenarioNames = values.scenario ? values.scenario.split(',').map((s) => s.trim()) : [...MAIN_SCENARIOS];
for (const name of scenarioNames) {
  if (!SCENARIOS[name]) {
    console.error(`bench: unknown scenario "${name}"\n${USAGE}`);
    process.exit(2);
  }
}
const requested = values.target?.split(',').map((t) => t.trim());
for (const name of requested ?? []) {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    console.error(`bench: unknown target "${name}"\n${USAGE}`);
    process.exit(2);
  }
}

installCleanup();
const startedAt = new Date();
const machine = machineInfo();
const results: ScenarioOutcome[] = [];
for (const name of scenarioNames) {
  const scenario = loadScenario({ name });
  const targets = scenario.targets.filter(
    (target): target is TargetName => !requested || requested.includes(target) || target === 'handwritten',
  );
  // CHORUS_BASELINE: the same scenario on another checkout, interleaved with this one.
  if (process.env.CHORUS_BASELINE && targets.includes('chorus')) targets.push('chorus-baseline');
  console.error(`scenario ${name}: ${scenario.title} — ${targets.join(', ')}`);
  const result = await measureScenario(scenario, targets, options);
  addRatios(result);
  results.push(result);
}

const { log: _log, ...measured } = options;
const report: RunReport = {
  startedAt: startedAt.toISOString(),
  argv: process.argv.slice(2).filter((arg) => arg !== '--update-docs' && arg !== '--json'),
  machine,
  options: { ...measured, quick },
  results,
};
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const saved = `${resultsDir}run-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(saved, `${JSON.stringify(report, null, 2)}\n`);
render(report, saved);

/** Prints the table (or JSON) and, with --update-docs, writes the results section of the docs. */
function render(run: RunReport, savedAs: string | undefined): void {
  const { options: used } = run;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  } else {
    console.log(textTable(run.results));
    console.log(
      `\n${used.quick ? 'QUICK SMOKE RUN — not a measurement. ' : ''}${used.rounds} round(s) × ${used.durationS} s, ` +
        `warm-up ${used.warmupS} s, ${used.connections} connections; spread = half the min–max range of the rounds.` +
        (savedAs ? `\nSaved ${savedAs}` : ''),
    );
  }
  if (!values['update-docs']) return;
  const docs = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
  const START = '<!-- bench:results:start -->';
  const END = '<!-- bench:results:end -->';
  const text = readFileSync(docs, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) {
    console.error(`bench: ${docs} has no ${START} … ${END} section to update`);
    process.exit(1);
  }
  const args = run.argv ?? (used.quick ? ['--quick'] : []);
  const section = [
    START,
    '',
    `Run of ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC with \`npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}\`` +
      ` (${used.rounds} round(s) × ${used.durationS} s, warm-up ${used.warmupS} s, ${used.connections} connections` +
      `${used.quick ? '; a quick smoke run, not a measurement' : ''}).`,
    '',
    machineMarkdown(run.machine),
    '',
    markdownTable(run.results),
    END,
  ].join('\n');
  writeFileSync(docs, `${text.slice(0, from)}${section}${text.slice(to + END.length)}`);
  console.error(`updated ${docs}`);
}
