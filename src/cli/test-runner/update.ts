/**
 * --update: a failing test's expectations are rewritten from what the gateway answered (status,
 * body, the partial marker), in place in its YAML file; comments and the rest stay as written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { TestResult } from './run-file.ts';

/** Rewrites the expectations of the failed results; returns how many tests were updated. */
export function updateExpectations(results: readonly TestResult[]): number {
  let updated = 0;
  for (const [file, list] of groupBy(
    results.filter((result) => !result.passed),
    (result) => result.file,
  )) {
    if (!/\.ya?ml$/.test(file)) continue;
    const doc = parseDocument(readFileSync(file, 'utf8'));
    for (const result of list) {
      result.outcomes.forEach((outcome, step) => {
        const at =
          step === 0
            ? ['tests', result.index, 'expect']
            : ['tests', result.index, 'next', step - 1, 'expect'];
        doc.setIn([...at, 'status'], outcome.status);
        const marker = outcome.headers['chorus-partial'];
        doc.setIn([...at, 'partial'], marker === undefined ? [] : marker.split(','));
        doc.setIn([...at, 'body'], doc.createNode(outcome.body));
      });
      updated++;
    }
    writeFileSync(file, doc.toString({ lineWidth: 0 }));
  }
  return updated;
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
