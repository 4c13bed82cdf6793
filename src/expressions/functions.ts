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
  registerRoundingFunctions(env);
  registerShapingFunctions(env);
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

/**
 * `x` scaled by 10^n exactly as its decimal text reads (1.005 → 100.5, not 100.49999…): the
 * shortest text that round-trips, with its exponent shifted, as decimal rounding expects.
 */
function scaled(x: number, n: number): number {
  const [mantissa, exponent = '0'] = String(x).split('e');
  return Number(`${mantissa}e${Number(exponent) + n}`);
}

/** `x` scaled back by 10^-n, through the decimal text again. */
function unscaled(x: number, n: number): number {
  const [mantissa, exponent = '0'] = String(x).split('e');
  return Number(`${mantissa}e${Number(exponent) - n}`);
}

/** Rounds to `digits` decimals; a tie goes away from zero (half-up) or to the even digit (half-even). */
function roundDecimal(value: unknown, digits: unknown, mode: 'halfUp' | 'halfEven'): number {
  const x = toNumber(value);
  const n = Math.trunc(toNumber(digits));
  if (!Number.isFinite(x)) return x;
  if (n < 0 || n > 15) throw new Error('round to 0 to 15 decimals');
  const magnitude = scaled(Math.abs(x), n);
  const floor = Math.floor(magnitude);
  const fraction = magnitude - floor;
  let rounded: number;
  if (fraction > 0.5) rounded = floor + 1;
  else if (fraction < 0.5) rounded = floor;
  else rounded = mode === 'halfUp' || floor % 2 === 1 ? floor + 1 : floor;
  const result = unscaled(rounded, n);
  return x < 0 && result !== 0 ? -result : result;
}

function registerRoundingFunctions(env: Environment): void {
  for (const type of ['double', 'int'] as const) {
    env.registerFunction(
      `roundHalfUp(${type}, int): double`,
      (x: unknown, n: unknown) => roundDecimal(x, n, 'halfUp'),
      {
        description: 'Rounded to n decimals; a tie goes away from zero (commercial rounding: 2.345 → 2.35).',
      },
    );
    env.registerFunction(
      `roundHalfEven(${type}, int): double`,
      (x: unknown, n: unknown) => roundDecimal(x, n, 'halfEven'),
      {
        description: "Rounded to n decimals; a tie goes to the even digit (banker's rounding: 2.345 → 2.34).",
      },
    );
  }
  env.registerFunction('ceil(double): double', (x: number) => Math.ceil(x), {
    description: 'The smallest whole number not below x.',
  });
  env.registerFunction('floor(double): double', (x: number) => Math.floor(x), {
    description: 'The largest whole number not above x.',
  });
  env.registerFunction('ceil(int): double', (x: bigint) => Number(x));
  env.registerFunction('floor(int): double', (x: bigint) => Number(x));
}

/** A map from [key, value] pairs or {key, value} maps; later keys win, unsafe keys are dropped. */
function fromEntries(entries: readonly unknown[]): JsonMap {
  const out: JsonMap = {};
  for (const entry of entries) {
    let key: unknown;
    let value: unknown;
    if (Array.isArray(entry) && entry.length === 2) [key, value] = entry;
    else if (isMap(entry) && 'key' in entry) {
      key = entry.key;
      value = entry.value ?? null;
    } else throw new Error('fromEntries takes [key, value] pairs or {key, value} maps');
    const name = String(key);
    if (isSafeKey(name)) out[name] = value;
  }
  return out;
}

/** A map from the value of a field path of each item to the item (the first one of each key wins). */
function keyBy(list: readonly unknown[], path: string): JsonMap {
  const out: JsonMap = {};
  for (const item of list) {
    const key = readPath(item, path);
    if (key === undefined || key === null) continue;
    const name = String(key);
    if (isSafeKey(name) && !Object.hasOwn(out, name)) out[name] = item;
  }
  return out;
}

/** Per group (a field path's value), a reduction of another field path's numbers. */
function perGroup(
  list: readonly unknown[],
  groupPath: string,
  valuePath: string | undefined,
  reduce: (previous: number | undefined, value: number) => number,
): JsonMap {
  const out: Record<string, number> = {};
  for (const item of list) {
    const name = String(readPath(item, groupPath) ?? '');
    if (!isSafeKey(name)) continue;
    let value = 1;
    if (valuePath !== undefined) {
      const raw = readPath(item, valuePath);
      if (raw === undefined || raw === null) continue; // an item without the value does not count
      value = toNumber(raw);
    }
    out[name] = reduce(Object.hasOwn(out, name) ? out[name] : undefined, value);
  }
  return out;
}

function numbersOf(list: readonly unknown[]): number[] {
  return list.filter((value) => value !== null && value !== undefined).map(toNumber);
}

function registerShapingFunctions(env: Environment): void {
  env.registerFunction('fromEntries(list): map', fromEntries, {
    description: 'A map from a list of [key, value] pairs or {key, value} maps.',
  });
  env.registerFunction('keyBy(list, string): map', keyBy, {
    description: 'A map from the value of a field path of each item to the item (first wins).',
  });
  env.registerFunction(
    'sumBy(list, string, string): map',
    (list: unknown[], group: string, value: string) =>
      perGroup(list, group, value, (previous, v) => (previous ?? 0) + v),
    { description: 'Per value of the first field path, the sum of the second.' },
  );
  env.registerFunction(
    'minBy(list, string, string): map',
    (list: unknown[], group: string, value: string) =>
      perGroup(list, group, value, (previous, v) => (previous === undefined ? v : Math.min(previous, v))),
    { description: 'Per value of the first field path, the least of the second.' },
  );
  env.registerFunction(
    'maxBy(list, string, string): map',
    (list: unknown[], group: string, value: string) =>
      perGroup(list, group, value, (previous, v) => (previous === undefined ? v : Math.max(previous, v))),
    { description: 'Per value of the first field path, the greatest of the second.' },
  );
  env.registerFunction(
    'countBy(list, string): map',
    (list: unknown[], group: string) => perGroup(list, group, undefined, (previous) => (previous ?? 0) + 1),
    { description: 'Per value of a field path, how many items have it.' },
  );
  env.registerFunction(
    'min(list): dyn',
    (list: unknown[]) => {
      const numbers = numbersOf(list);
      return numbers.length === 0 ? null : Math.min(...numbers);
    },
    { description: 'The least number of a list (null for an empty list).' },
  );
  env.registerFunction(
    'max(list): dyn',
    (list: unknown[]) => {
      const numbers = numbersOf(list);
      return numbers.length === 0 ? null : Math.max(...numbers);
    },
    { description: 'The greatest number of a list (null for an empty list).' },
  );
}
