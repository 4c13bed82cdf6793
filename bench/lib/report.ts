/** The results as a text table (terminal), a Markdown table (docs/performance.md) and JSON. */
import type { ScenarioOutcome, TargetOutcome } from './measure.ts';
import type { Summary } from './stats.ts';

const HEADERS = [
  'target',
  'req/s',
  'spread',
  '× hand',
  '× hand CPU',
  'p50 ms',
  'p99 ms',
  '½ rate',
  'p50 ms @½',
  'p99 ms @½',
  'errors',
  'RSS MB',
  'CPU µs/req',
  'cores gw/load',
  'note',
] as const;

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function med(summary: Summary | undefined, digits: number): string {
  return fixed(summary?.median, digits);
}

function spread(summary: Summary | undefined): string {
  if (!summary || summary.n < 2) return '–';
  return `±${((summary.spread * 100) / 2).toFixed(1)}%`;
}

function errors(target: TargetOutcome): string {
  const load = target.non2xx + target.badBody + target.socketErrors;
  const paced = target.paced
    ? target.paced.non2xx + target.paced.badBody + target.paced.errors + target.paced.unanswered
    : 0;
  if (load + paced === 0) return '0';
  const parts = [];
  if (target.non2xx) parts.push(`${target.non2xx} non-2xx`);
  if (target.badBody) parts.push(`${target.badBody} bad body`);
  if (target.socketErrors) parts.push(`${target.socketErrors} socket`);
  if (paced) parts.push(`${paced} paced`);
  return parts.join(', ');
}

function verdictNote(target: TargetOutcome): string | undefined {
  switch (target.verdict) {
    case 'no-gateway':
      return 'no gateway: backend + wrk share one core';
    case 'load-core-bound':
      return 'load core saturated: req/s is a lower bound';
    case 'both-saturated':
      return 'both cores saturated';
    case 'neither-saturated':
      return 'gateway core not saturated';
    default:
      return undefined;
  }
}

/** Share of the gateway core taken by other processes above which a result is flagged. */
const OTHER_WORK_FLAG = 0.05;

/** What a reader must know about a row: which core limited it, interference, generator limits. */
export function note(target: TargetOutcome): string {
  const notes = [verdictNote(target)];
  const other = target.otherOnGatewayCore?.median;
  if (other !== undefined && other > OTHER_WORK_FLAG) {
    notes.push(`other work on gw core ${Math.round(other * 100)}%`);
  }
  const otherLoad = target.otherOnLoadCore?.median;
  if (otherLoad !== undefined && otherLoad > OTHER_WORK_FLAG) {
    notes.push(`other work on load core ${Math.round(otherLoad * 100)}%`);
  }
  if (target.paced?.generatorLimited) {
    notes.push(`@½ generator-limited (send lag p99 ${target.paced.sendLagP99Ms.toFixed(1)} ms)`);
  }
  return notes.filter(Boolean).join('; ');
}

function row(target: TargetOutcome): string[] {
  if (target.status !== 'ok') return [target.target, `${target.status}: ${target.reason ?? ''}`];
  const cores =
    target.gatewayBusy && target.loadBusy
      ? `${Math.round(target.gatewayBusy.median * 100)}%/${Math.round(target.loadBusy.median * 100)}%`
      : '–';
  return [
    target.target,
    fixed(target.rps?.median, 0),
    spread(target.rps),
    fixed(target.ratio, 2),
    fixed(target.cpuRatio, 2),
    med(target.p50Ms, 2),
    med(target.p99Ms, 2),
    target.paced ? String(target.paced.rate) : '–',
    med(target.paced?.p50Ms, 2),
    med(target.paced?.p99Ms, 2),
    errors(target),
    fixed(target.rssLoadedMb, 0),
    med(target.cpuUsPerRequest, 0),
    cores,
    note(target),
  ];
}

/** The results as aligned text, one block per scenario. */
export function textTable(results: readonly ScenarioOutcome[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push('', `${result.scenario} — ${result.title}`);
    const rows = [HEADERS as readonly string[], ...result.targets.map(row)];
    const widths = HEADERS.map((_, column) =>
      Math.max(...rows.filter((r) => r.length === HEADERS.length).map((r) => (r[column] ?? '').length)),
    );
    for (const cells of rows) {
      if (cells.length !== HEADERS.length) {
        lines.push(`  ${cells[0]!.padEnd(widths[0]!)}  ${cells[1]}`);
        continue;
      }
      lines.push(
        `  ${cells
          .map((cell, column) =>
            column === 0 || column === cells.length - 1
              ? cell.padEnd(widths[column]!)
              : cell.padStart(widths[column]!),
          )
          .join('  ')
          .trimEnd()}`,
      );
    }
  }
  return lines.join('\n');
}

/** The results as Markdown tables, one per scenario. */
export function markdownTable(results: readonly ScenarioOutcome[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`#### ${result.scenario} — ${result.title}`, '');
    lines.push(
      `| ${HEADERS.join(' | ')} |`,
      `|${HEADERS.map((_, i) => (i === 0 || i === HEADERS.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
    );
    for (const target of result.targets) {
      const cells = row(target);
      if (cells.length !== HEADERS.length) {
        lines.push(`| ${cells[0]} | ${cells[1]} |${' |'.repeat(HEADERS.length - 2)}`);
      } else {
        lines.push(`| ${cells.join(' | ')} |`);
      }
    }
    lines.push('');
  }
  return lines.join('\n');
}
