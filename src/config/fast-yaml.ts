/**
 * The fast path of loading a YAML or JSON config: a config that is valid as written is read with
 * js-yaml into plain values, and the `yaml` library's document (source positions for messages, the
 * YAML-level checks, `${env…}` interpolation) is built only when something needs it — a config
 * with problems, references to the environment, anchors, complex keys.
 *
 * Why two parsers: `yaml` keeps a full document tree with ranges, which is what precise
 * `file:line:col` messages need, but it is slow on large files — a 10,000-endpoint config (1.3 MB)
 * took ~750 ms of a 1.8 s start in `parseDocument` and `toJS`, plus most of the start's GC
 * (bench/footprint.ts, endpoints-10000). js-yaml reads the same text into values in ~100 ms.
 * Both follow the YAML 1.2 core schema (js-yaml's CORE_SCHEMA: no timestamps, no `<<` merge);
 * src/config/fast-yaml.test.ts checks that they read scalars alike.
 *
 * The fast path is taken only when it cannot differ from the full one:
 * - no `{env.` in the text (interpolation depends on a scalar's style, which only `yaml` keeps);
 * - no explicit `?` keys or flow collections used as keys (the full path reports those);
 * - no object reached twice (an alias: the full path bounds alias expansion) and no `__proto__`
 *   key (left to the full path's handling);
 * - js-yaml reads it without error (duplicate keys are errors in both).
 * Anything else returns undefined and the caller takes the full path.
 */
import { CORE_SCHEMA, load } from 'js-yaml';

/** Text that needs what only the full parse does (see above). */
const NEEDS_FULL_PARSE =
  /\{env\.|^[ \t]*(?:-[ \t]+)*\?(?:[ \t]|$)|^[ \t]*(?:-[ \t]+)*[[{][^\n]*[\]}][ \t]*:(?:[ \t]|$)/m;

/** The config's values when the fast path applies, else undefined. */
export function readConfigFast(text: string): Record<string, unknown> | undefined {
  if (NEEDS_FULL_PARSE.test(text)) return undefined;
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return isPlainTree(value) ? (value as Record<string, unknown>) : undefined;
}

/** True when no object or array is reached twice and no key is `__proto__` or a stringified map. */
function isPlainTree(root: object): boolean {
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as object;
    if (seen.has(node)) return false;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    for (const key of Object.keys(node)) {
      if (key === '__proto__' || key === '[object Object]') return false;
      const item = (node as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
    if (Object.hasOwn(node, '__proto__')) return false;
  }
  return true;
}
