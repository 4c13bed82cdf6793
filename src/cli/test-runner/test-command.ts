/** `chorus test [config] [tests…]`: finds the test files, runs them, reports, and exits 1 on any failure. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ConfigIssue, formatIssue, sortIssues } from '../../config/issues.ts';
import { REPORTERS, type ReporterName, report } from './reporters.ts';
import { runTestFile, type TestResult } from './run-file.ts';
import { loadTestFile } from './test-file.ts';
import { updateExpectations } from './update.ts';

export const TEST_HELP = `Usage: chorus test [config] [tests…] [options]

Runs flow tests: each test sends a request through the real compiled gateway while its backends'
answers are declared in the test (no backend process runs). Test files are *.test.yaml (or .yml,
.json, or a TypeScript module exporting the same object); a folder is searched for them. With no
tests named, the config's folder is searched.

Options:
  --reporter R     human (default), junit, tap or json
  --filter TEXT    only tests whose name contains TEXT (or matches /regex/)
  --update         rewrite the expectations of failing tests from what the gateway answered
  -h, --help       show this help

Prints a line per test, a diff at the JSON path of each mismatch, and "N passed, M failed".
Exits 1 when a test fails or a file has problems (shown as file:line:col).`;

const TEST_FILE = /\.test\.(ya?ml|json)$/;
const CONFIG_FILE = /\.(ya?ml|json|ts|js|mjs)$/;

/** Runs the command; resolves to the exit code. */
export async function testCommand(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    process.stderr.write(`chorus test: ${(error as Error).message}\n\n${TEST_HELP}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${TEST_HELP}\n`);
    return 0;
  }
  const reporter = (values.reporter ?? 'human') as ReporterName;
  if (!REPORTERS.includes(reporter)) {
    process.stderr.write(
      `chorus test: --reporter must be one of ${REPORTERS.join(', ')}, got "${reporter}"\n`,
    );
    return 1;
  }
  let config: string | undefined;
  const named = [...positionals];
  if (named[0] !== undefined && !isTestPath(named[0]) && CONFIG_FILE.test(named[0]))
    config = path.resolve(named.shift()!);
  let files: string[];
  try {
    files = findTestFiles(named.length > 0 ? named : [config === undefined ? '.' : path.dirname(config)]);
  } catch (error) {
    process.stderr.write(`chorus test: ${(error as Error).message}\n`);
    return 1;
  }
  if (files.length === 0) {
    process.stderr.write('chorus test: no test files found (*.test.yaml, *.test.yml, *.test.json)\n');
    return 1;
  }
  const filter = nameFilter(values.filter);
  const results: TestResult[] = [];
  const issues: ConfigIssue[] = [];
  for (const file of files) {
    const loaded = await loadTestFile(file);
    if (!loaded.ok) {
      issues.push(...loaded.issues);
      continue;
    }
    const ran = await runTestFile(
      { file, tests: loaded.loaded.config, locate: loaded.loaded.locate },
      config,
      filter,
    );
    if ('issues' in ran) issues.push(...ran.issues);
    else results.push(...ran.results);
  }
  if (issues.length > 0) {
    for (const issue of sortIssues(issues)) process.stderr.write(`${formatIssue(issue)}\n`);
    process.stderr.write(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} found; no test ran for ${issues.length === 1 ? 'it' : 'them'}\n`,
    );
  }
  if (issues.length > 0 && results.length === 0) return 1;
  process.stdout.write(
    report(
      reporter,
      results.map((result) => ({
        ...result,
        file: path.relative(process.cwd(), result.file) || result.file,
      })),
    ),
  );
  if (values.update) {
    const updated = updateExpectations(results);
    process.stdout.write(`updated the expectations of ${updated} test${updated === 1 ? '' : 's'}\n`);
    return issues.length > 0 ? 1 : 0;
  }
  return issues.length > 0 || results.some((result) => !result.passed) ? 1 : 0;
}

function parseOptions(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      reporter: { type: 'string' },
      filter: { type: 'string' },
      update: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function isTestPath(name: string): boolean {
  if (TEST_FILE.test(name) || /\.test\.[cm]?[jt]s$/.test(name)) return true;
  try {
    return statSync(name).isDirectory();
  } catch {
    return false;
  }
}

/** The test files named, folders searched (node_modules and dot folders skipped), sorted. */
function findTestFiles(names: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEST_FILE.test(entry.name)) found.push(full);
    }
  };
  for (const name of names) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(name).isDirectory();
    } catch {
      throw new Error(`cannot read "${name}": no such file or folder`);
    }
    if (isDirectory) walk(path.resolve(name));
    else found.push(path.resolve(name));
  }
  return [...new Set(found)].sort();
}

function nameFilter(text: string | undefined): (name: string) => boolean {
  if (text === undefined) return () => true;
  const regex = /^\/(.*)\/([a-z]*)$/.exec(text);
  if (regex) {
    const pattern = new RegExp(regex[1]!, regex[2]);
    return (name) => pattern.test(name);
  }
  return (name) => name.includes(text);
}
