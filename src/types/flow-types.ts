/** Placeholder: the flow type checker (filled in below). */
import type { ConfigIssue } from '../config/issues.ts';

const dynReads = new WeakMap<object, ConfigIssue[]>();

/** The reads of fields whose type is unknown (dyn) found while compiling `config` (for --strict). */
export function dynReadsOf(config: object): ConfigIssue[] {
  return dynReads.get(config) ?? [];
}
