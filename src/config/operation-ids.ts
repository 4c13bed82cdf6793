/** Operation ids of endpoints: configured, or derived from method and path; unique across the config. */
import type { EndpointConfig } from './schema.ts';

/** Derives an operation id such as getCatalogItemsById from a method and a path (GET /catalog/items/{id}). */
export function deriveOperationId(method: string, path: string): string {
  const words: string[] = [];
  for (const segment of path.split('/')) {
    // A segment may mix literal text and parameters, e.g. {name}.json.
    for (const part of segment.split(/(\{[^}]*\})/)) {
      if (part === '') continue;
      const param = /^\{(.*)\}$/.exec(part);
      if (param) words.push('by', ...wordsOf(param[1] ?? ''));
      else words.push(...wordsOf(part));
    }
  }
  const name = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  return method.toLowerCase() + (name === '' ? 'Root' : name);
}

/**
 * Gives every endpoint a unique operation id, in config order: explicit ids first, then derived ones, with
 * a numeric suffix (2, 3, …) on any id already taken.
 */
export function resolveOperationIds(
  endpoints: ReadonlyArray<Pick<EndpointConfig, 'id' | 'method' | 'path'>>,
): readonly string[] {
  // The compiler, the stores, the portal and the OpenAPI document each ask for the same config's
  // ids: derived once (a 10,000-endpoint config spent ~100 ms of its start deriving them 4 times).
  let ids = resolved.get(endpoints);
  if (ids === undefined) {
    ids = Object.freeze(deriveIds(endpoints));
    resolved.set(endpoints, ids);
  }
  return ids;
}

const resolved = new WeakMap<object, readonly string[]>();

function deriveIds(endpoints: ReadonlyArray<Pick<EndpointConfig, 'id' | 'method' | 'path'>>): string[] {
  const taken = new Set<string>();
  const ids: Array<string | undefined> = endpoints.map((endpoint) =>
    endpoint.id === undefined ? undefined : claimId(endpoint.id, taken),
  );
  return endpoints.map(
    (endpoint, index) => ids[index] ?? claimId(deriveOperationId(endpoint.method, endpoint.path), taken),
  );
}

function wordsOf(text: string): string[] {
  return text.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
}

/** Takes `wanted`, or `wanted` with the first free numeric suffix, and marks it taken. */
export function claimId(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let suffix = 2; taken.has(id); suffix++) id = wanted + suffix;
  taken.add(id);
  return id;
}
