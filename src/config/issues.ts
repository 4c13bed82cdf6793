/** Config problems, each with the place in the file it comes from. */

import type { ConfigPath } from '../contracts/issues.ts';

export type { ConfigPath };

/** A 1-based line and column in a config file. */
export interface SourcePosition {
  line: number;
  col: number;
}

/** One problem found while loading a config. */
export interface ConfigIssue {
  file: string;
  path: ConfigPath;
  message: string;
  position?: SourcePosition;
}

/** Finds where a key path is in the source (`key`: the key itself; `offset`: a character in a string value); undefined for sources without positions (TypeScript configs). */
export type Locate = (
  path: ConfigPath,
  options?: { key?: boolean; offset?: number },
) => SourcePosition | undefined;

/** Formats a path as `endpoints[0].flow[1].call`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** Formats an issue as `file:line:col message` (or `file: path message` without a position). */
export function formatIssue(issue: ConfigIssue): string {
  if (issue.position) return `${issue.file}:${issue.position.line}:${issue.position.col} ${issue.message}`;
  const path = formatPath(issue.path);
  // Messages from schema validation already start with their path.
  const where = path !== '' && !issue.message.startsWith(path) ? ` ${path}:` : '';
  return `${issue.file}:${where} ${issue.message}`;
}

/** Sorts issues by position so a person reads them top to bottom. */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort(
    (a, b) =>
      (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0),
  );
}
