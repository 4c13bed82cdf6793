/**
 * The functions orchestration adds to CEL (documented in docs/expressions.md). They take plain
 * JSON data and never copy `__proto__`/`constructor` keys, so request data cannot pollute prototypes.
 */
import { createRequire } from 'node:module';
import type { Environment } from '@marcbachmann/cel-js';
import { isSafeKey } from '../json/parse.ts';

/** http-link-header parses RFC 8288 Link headers (it ships no types: the part used is typed here). */
interface LinkHeaderModule {
  parse(value: string): { get(attribute: string, value: string): { uri: string }[] };
}
const LinkHeader = createRequire(import.meta.url)('http-link-header') as LinkHeaderModule;

/**
 * Variables only some fields bind, registered beside the functions so the shared environment
 * knows them; a field that does not bind one still refuses it at load ("not available here").
 * `page`: a repeating step's round; `batch`: a batch call's keys and answer; `result`: one result.
 */
export const STEP_VARIABLES = ['page', 'batch', 'result'] as const;

type Json = unknown;
type JsonMap = Record<string, Json>;

function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function assign(target: JsonMap, source: unknown): JsonMap {
  if (!isMap(source)) return target;
  const entries = source instanceof Map ? [...source.entries()] : Object.entries(source);
  for (const [key, value] of entries) if (isSafeKey(String(key))) target[String(key)] = value;
  return target;
}

/** Reads a dotted path ("a.b.c") of a value; undefined when a part is missing. */
function readPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (!isMap(current)) return undefined;
    current = current instanceof Map ? current.get(part) : current[part];
  }
  return current;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1; // missing values sort last
  if (b === undefined || b === null) return -1;
  if (typeof a === 'bigint' || typeof b === 'bigint') return Number(a) < Number(b) ? -1 : 1;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : 1;
  return (a as number) < (b as number) ? -1 : 1;
}

function sortBy(list: readonly unknown[], path: string, order = 'asc'): unknown[] {
  const direction = order.toLowerCase() === 'desc' ? -1 : 1;
  // Decorate-sort-undecorate: read each key once; Array.prototype.sort is stable.
  return list
    .map((item, index) => ({ item, index, key: readPath(item, path) }))
    .sort((a, b) => {
      const missingA = a.key === undefined || a.key === null;
      const missingB = b.key === undefined || b.key === null;
      if (missingA || missingB) return missingA === missingB ? a.index - b.index : missingA ? 1 : -1;
      return direction * compareValues(a.key, b.key) || a.index - b.index;
    })
    .map((entry) => entry.item);
}

function groupBy(list: readonly unknown[], path: string): JsonMap {
  const groups: JsonMap = {};
  for (const item of list) {
    const key = String(readPath(item, path) ?? '');
    if (!isSafeKey(key)) continue;
    const group = groups[key];
    if (Array.isArray(group)) group.push(item);
    else groups[key] = [item];
  }
  return groups;
}

function coalesce(...values: unknown[]): unknown {
  for (const value of values) if (value !== null && value !== undefined) return value;
  return null;
}

function toNumber(value: unknown): number {
  return typeof value === 'bigint' ? Number(value) : Number(value);
}

/** Registers the orchestration functions on a CEL environment. */
export function registerOrchestrationFunctions(env: Environment): void {
  for (const name of STEP_VARIABLES) env.registerVariable(name, 'dyn');
  registerLinkFunctions(env);
  registerMixedArithmetic(env);
  registerMergingAndListFunctions(env);
  registerMapFunctions(env);
  registerStringFunctions(env);
  registerTimeFunctions(env);
}

function registerMixedArithmetic(env: Environment): void {
  // JSON numbers arrive as doubles while CEL literals are ints: mixed arithmetic must just work.
  for (const op of ['+', '-', '*', '/'] as const) {
    const apply = (a: number, b: number): number =>
      op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => apply(a, Number(b)));
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => apply(Number(a), b));
  }
}

function registerMergingAndListFunctions(env: Environment): void {
  env.registerFunction('merge(map, map): map', (a: unknown, b: unknown) => assign(assign({}, a), b), {
    description: 'A new map with the keys of both; the second wins.',
  });
  env.registerFunction('merge(list): map', (maps: readonly unknown[]) => maps.reduce(assign, {}), {
    description: 'A new map with the keys of every map in the list; later ones win.',
  });
  env.registerFunction('coalesce(dyn, dyn): dyn', coalesce, {
    description: 'The first argument that is not null.',
  });
  env.registerFunction('coalesce(dyn, dyn, dyn): dyn', coalesce);
  env.registerFunction('coalesce(dyn, dyn, dyn, dyn): dyn', coalesce);
  env.registerFunction('sortBy(list, string): list', (list: unknown[], path: string) => sortBy(list, path), {
    description: 'The list sorted by a dotted field path, ascending; missing values last.',
  });
  env.registerFunction('sortBy(list, string, string): list', sortBy, {
    description: 'The list sorted by a dotted field path, "asc" or "desc".',
  });
  env.registerFunction('groupBy(list, string): map', groupBy, {
    description: 'A map from each value of a dotted field path to the items having it.',
  });
  env.registerFunction('flatten(list): list', (list: unknown[]) => list.flat(1), {
    description: 'The list with nested lists spread one level.',
  });
  env.registerFunction('distinct(list): list', (list: unknown[]) => [...new Set(list)], {
    description: 'The list without repeated scalar values.',
  });
  env.registerFunction(
    'sum(list): double',
    (list: unknown[]) => list.reduce<number>((s, v) => s + toNumber(v), 0),
    {
      description: 'The sum of a list of numbers.',
    },
  );
}

function registerMapFunctions(env: Environment): void {
  env.registerFunction('keys(map): list', (map: JsonMap) => Object.keys(map), {
    description: 'The keys of a map.',
  });
  env.registerFunction('values(map): list', (map: JsonMap) => Object.values(map), {
    description: 'The values of a map.',
  });
  env.registerFunction(
    'pick(map, list): map',
    (map: JsonMap, names: unknown[]) => {
      const out: JsonMap = {};
      for (const name of names)
        if (isSafeKey(String(name)) && String(name) in map) out[String(name)] = map[String(name)];
      return out;
    },
    { description: 'A map with only the named keys.' },
  );
  env.registerFunction(
    'omit(map, list): map',
    (map: JsonMap, names: unknown[]) => {
      const drop = new Set(names.map(String));
      const out: JsonMap = {};
      for (const [key, value] of Object.entries(map)) if (!drop.has(key) && isSafeKey(key)) out[key] = value;
      return out;
    },
    { description: 'A map without the named keys.' },
  );
}

function registerStringFunctions(env: Environment): void {
  env.registerFunction('string.replaceAll(string, string): string', (s: string, a: string, b: string) =>
    s.replaceAll(a, b),
  );
  env.registerFunction('string.lower(): string', (s: string) => s.toLowerCase(), {
    description: 'The string in lower case (Unicode).',
  });
  env.registerFunction('string.upper(): string', (s: string) => s.toUpperCase(), {
    description: 'The string in upper case (Unicode).',
  });
  env.registerFunction('string.padStart(int, string): string', (s: string, n: bigint, pad: string) =>
    s.padStart(Number(n), pad),
  );
  env.registerFunction('toJson(dyn): string', (value: unknown) =>
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
  );
}

function registerTimeFunctions(env: Environment): void {
  env.registerFunction('now(): google.protobuf.Timestamp', () => new Date(), {
    description: 'The current time.',
  });
  env.registerFunction(
    'isoDate(google.protobuf.Timestamp): string',
    (date: Date) => date.toISOString().slice(0, 10),
    {
      description: 'The date part (YYYY-MM-DD, UTC) of a timestamp.',
    },
  );
  env.registerFunction(
    'epochMillis(google.protobuf.Timestamp): int',
    (date: Date) => BigInt(date.getTime()),
    {
      description: 'Milliseconds since 1970-01-01 UTC.',
    },
  );
}

/** The target of the first link with relation `rel` in a Link header (RFC 8288), or null. */
function linkTarget(header: unknown, rel: string): string | null {
  let value = header;
  if (isMap(value)) value = value instanceof Map ? value.get('link') : value.link;
  if (Array.isArray(value)) value = value.join(', ');
  if (typeof value !== 'string' || value === '') return null;
  try {
    return LinkHeader.parse(value).get('rel', rel)[0]?.uri ?? null;
  } catch {
    return null; // a malformed header has no usable link
  }
}

/** The query parameters of a URL (absolute or relative) as a map; a repeated name gives a list. */
function urlQuery(url: unknown): JsonMap | null {
  if (typeof url !== 'string') return null;
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relative.invalid');
  } catch {
    return null;
  }
  const out: JsonMap = {};
  for (const [name, value] of parsed.searchParams) {
    if (!isSafeKey(name)) continue;
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out;
}

function registerLinkFunctions(env: Environment): void {
  env.registerFunction('link(dyn, string): dyn', linkTarget, {
    description:
      'The target of the link with a relation (e.g. "next") in a Link header or a headers map; null if none.',
  });
  env.registerFunction('urlQuery(dyn): dyn', urlQuery, {
    description: 'The query parameters of a URL as a map (null for null).',
  });
}
