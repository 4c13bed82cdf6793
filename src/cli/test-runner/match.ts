/**
 * Expected values with matchers, and the differences between expected and actual at their JSON
 * paths. A matcher is an object of one `$` key: `{ $any: true }`, `{ $type: "string" }`,
 * `{ $regex: "^mc-" }`, `{ $subset: {...} }` (the value has at least these keys and items).
 */

/** One difference: where, what was expected, what was there. */
export interface Mismatch {
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly reason: string;
}

const TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;

/** The differences between `expected` (exact, matchers allowed) and `actual`. */
export function differences(expected: unknown, actual: unknown, path = '$'): Mismatch[] {
  const found: Mismatch[] = [];
  compare(expected, actual, path, false, found);
  return found;
}

/** Whether `actual` contains `expected` (objects: at least its keys; arrays: its items in order). */
export function contains(expected: unknown, actual: unknown): boolean {
  const found: Mismatch[] = [];
  compare(expected, actual, '$', true, found);
  return found.length === 0;
}

function compare(expected: unknown, actual: unknown, path: string, subset: boolean, found: Mismatch[]): void {
  const matcher = matcherOf(expected);
  if (matcher !== undefined) {
    matchWith(matcher, actual, path, found);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      found.push({ path, expected, actual, reason: 'expected an array' });
      return;
    }
    if (subset ? actual.length < expected.length : actual.length !== expected.length) {
      found.push({
        path,
        expected,
        actual,
        reason: `expected ${subset ? 'at least ' : ''}${expected.length} items, got ${actual.length}`,
      });
      return;
    }
    for (const [index, item] of expected.entries())
      compare(item, actual[index], `${path}[${index}]`, subset, found);
    return;
  }
  if (isRecord(expected)) {
    if (!isRecord(actual)) {
      found.push({ path, expected, actual, reason: 'expected an object' });
      return;
    }
    for (const [key, value] of Object.entries(expected)) {
      const at = pathOf(path, key);
      if (!(key in actual)) found.push({ path: at, expected: value, actual: undefined, reason: 'missing' });
      else compare(value, actual[key], at, subset, found);
    }
    if (!subset) {
      for (const key of Object.keys(actual)) {
        if (!(key in expected))
          found.push({
            path: pathOf(path, key),
            expected: undefined,
            actual: actual[key],
            reason: 'not expected',
          });
      }
    }
    return;
  }
  if (!Object.is(expected, actual) && !(typeof expected === 'number' && expected === actual)) {
    found.push({ path, expected, actual, reason: 'differs' });
  }
}

type Matcher = { $any: unknown } | { $type: string } | { $regex: string } | { $subset: unknown };

function matcherOf(value: unknown): Matcher | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  return key === '$any' || key === '$type' || key === '$regex' || key === '$subset'
    ? (value as Matcher)
    : undefined;
}

function matchWith(matcher: Matcher, actual: unknown, path: string, found: Mismatch[]): void {
  if ('$any' in matcher) {
    if (actual === undefined) found.push({ path, expected: matcher, actual, reason: 'missing' });
  } else if ('$type' in matcher) {
    if (typeOf(actual) !== matcher.$type && !(matcher.$type === 'number' && typeOf(actual) === 'integer')) {
      found.push({ path, expected: matcher, actual, reason: `expected a value of type ${matcher.$type}` });
    }
  } else if ('$regex' in matcher) {
    if (typeof actual !== 'string' || !new RegExp(matcher.$regex, 'u').test(actual)) {
      found.push({
        path,
        expected: matcher,
        actual,
        reason: `expected a string matching /${matcher.$regex}/`,
      });
    }
  } else {
    compare(matcher.$subset, actual, path, true, found);
  }
}

/** Checks the matchers of an expected value (a bad $type or $regex), for load-time messages. */
export function matcherProblem(value: unknown): string | undefined {
  const matcher = matcherOf(value);
  if (matcher !== undefined) {
    if ('$type' in matcher && !(TYPES as readonly string[]).includes(matcher.$type)) {
      return `$type must be one of ${TYPES.join(', ')}`;
    }
    if ('$regex' in matcher) {
      if (typeof matcher.$regex !== 'string') return '$regex must be a string';
      try {
        new RegExp(matcher.$regex, 'u');
      } catch (error) {
        return `$regex: ${(error as Error).message}`;
      }
    }
    if ('$subset' in matcher) return matcherProblem(matcher.$subset);
    return undefined;
  }
  const children = Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : [];
  for (const child of children) {
    const problem = matcherProblem(child);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function pathOf(parent: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A mismatch as a person reads it: the path, then expected and actual as JSON. */
export function formatMismatch(mismatch: Mismatch): string {
  const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));
  return `at ${mismatch.path}: ${mismatch.reason}\n      expected: ${show(mismatch.expected)}\n      actual:   ${show(mismatch.actual)}`;
}
