/** How results are written: for a person (default), JUnit XML, TAP, or JSON; each ends with the count. */
import type { TestResult } from './run-file.ts';

export const REPORTERS = ['human', 'junit', 'tap', 'json'] as const;
export type ReporterName = (typeof REPORTERS)[number];

/** The closing line every reporter's summary carries. */
export function summaryLine(results: readonly TestResult[]): string {
  const failed = results.filter((result) => !result.passed).length;
  return `${results.length - failed} passed, ${failed} failed`;
}

/** The report of all results. */
export function report(name: ReporterName, results: readonly TestResult[]): string {
  if (name === 'json')
    return `${JSON.stringify({ results: results.map(jsonOf), summary: summaryLine(results) }, null, 2)}\n`;
  if (name === 'tap') return tap(results);
  if (name === 'junit') return junit(results);
  return human(results);
}

function human(results: readonly TestResult[]): string {
  let out = '';
  let file = '';
  for (const result of results) {
    if (result.file !== file) {
      file = result.file;
      out += `${file}\n`;
    }
    out += `  ${result.passed ? '✔' : '✖'} ${result.name} (${result.ms} ms)\n`;
    for (const failure of result.failures) out += `      ${failure.replaceAll('\n', '\n  ')}\n`;
  }
  return `${out}\n${summaryLine(results)}\n`;
}

function tap(results: readonly TestResult[]): string {
  let out = `TAP version 13\n1..${results.length}\n`;
  results.forEach((result, index) => {
    out += `${result.passed ? 'ok' : 'not ok'} ${index + 1} - ${result.name.replaceAll('#', '\\#')}\n`;
    if (!result.passed) {
      out += `  ---\n  file: ${JSON.stringify(result.file)}\n  failures:\n`;
      for (const failure of result.failures) out += `    - ${JSON.stringify(failure)}\n`;
      out += '  ...\n';
    }
  });
  return `${out}# ${summaryLine(results)}\n`;
}

function junit(results: readonly TestResult[]): string {
  const byFile = groupBy(results, (result) => result.file);
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${results.length}" failures="${results.filter((r) => !r.passed).length}">\n`;
  for (const [file, list] of byFile) {
    const failures = list.filter((result) => !result.passed).length;
    out += `  <testsuite name="${xml(file)}" tests="${list.length}" failures="${failures}">\n`;
    for (const result of list) {
      out += `    <testcase name="${xml(result.name)}" classname="${xml(file)}" time="${(result.ms / 1000).toFixed(3)}"`;
      if (result.passed) {
        out += '/>\n';
      } else {
        out += `>\n      <failure message="${xml(result.failures[0] ?? 'failed')}">${xml(result.failures.join('\n'))}</failure>\n    </testcase>\n`;
      }
    }
    out += '  </testsuite>\n';
  }
  return `${out}</testsuites>\n<!-- ${summaryLine(results)} -->\n`;
}

function jsonOf(result: TestResult): Record<string, unknown> {
  return {
    file: result.file,
    name: result.name,
    passed: result.passed,
    failures: result.failures,
    ms: result.ms,
  };
}

function xml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [item]);
    else group.push(item);
  }
  return groups;
}
