/**
 * A config with schema problems, repaired just enough to be compiled, so `chorus validate` reports
 * the problems compiling finds (a missing WSDL, a cycle, an unknown service, a bad expression)
 * together with the schema's in one pass. Unknown keys are dropped; any other broken value is
 * removed, going up one level each time removing it did not help; a broken step becomes an inert
 * step of the same id (so the indexes and references of the others stay right); a broken service
 * is removed (the "unknown service" problems that follow are echoes, left out by the caller).
 * Nothing repaired is ever served: the result only feeds the compiler's checks.
 */
import type { z } from 'zod';
import type { ConfigPath } from './issues.ts';

/** The repaired config and the services that had to be removed from it. */
export interface RepairedConfig<Config> {
  config: Config;
  removedServices: ReadonlySet<string>;
}

const MAX_ROUNDS = 12;

/** A repaired copy of `raw` that the schema accepts, or undefined when none is found. */
export function repairConfig<Config>(
  schema: z.ZodType<Config>,
  raw: unknown,
): RepairedConfig<Config> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  let value: unknown;
  try {
    value = structuredClone(raw);
  } catch {
    return undefined; // functions in a TypeScript config: not repaired
  }
  const removedServices = new Set<string>();
  const attempted = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = schema.safeParse(value);
    if (result.success) return { config: result.data, removedServices };
    for (const issue of result.error.issues) {
      const issuePath = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        const parent = at(value, issuePath);
        if (isRecord(parent)) for (const key of issue.keys) delete parent[key];
        continue;
      }
      // Any problem inside a service removes the whole service: compiling what is left of it
      // would only echo the problem ("give the service url" after a bad url).
      let target: ConfigPath =
        issuePath[0] === 'services' && typeof issuePath[1] === 'string' ? issuePath.slice(0, 2) : issuePath;
      while (target.length > 0 && attempted.has(JSON.stringify(target))) target = target.slice(0, -1);
      if (target.length === 0) return undefined;
      attempted.add(JSON.stringify(target));
      if (!remove(value, target, removedServices)) return undefined;
    }
  }
  return undefined;
}

function remove(root: unknown, target: ConfigPath, removedServices: Set<string>): boolean {
  const [section, first, area, index] = target;
  if (section === 'endpoints' && typeof first === 'number' && area === 'flow' && typeof index === 'number') {
    if (target.length <= 4) return replaceStep(root, first, index);
  }
  if (section === 'services' && typeof first === 'string' && target.length <= 2) {
    removedServices.add(first);
  }
  if (section === 'endpoints' && typeof first === 'number' && target.length === 3) {
    // An endpoint's method and path are required: a stand-in keeps its flow checked.
    const endpoint = at(root, ['endpoints', first]);
    if (isRecord(endpoint) && (area === 'method' || area === 'path')) {
      endpoint[area] = area === 'method' ? 'GET' : `/__chorus_invalid_endpoint_${first}`;
      return true;
    }
  }
  if (section === 'endpoints' && typeof first === 'number' && target.length === 2) {
    const endpoints = at(root, ['endpoints']);
    if (!Array.isArray(endpoints)) return false;
    // An inert endpoint keeps the indexes (and so the positions) of the others.
    endpoints[first] = { method: 'GET', path: `/__chorus_invalid_endpoint_${first}`, flow: [] };
    return true;
  }
  const parent = at(root, target.slice(0, -1));
  const key = target.at(-1)!;
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else if (isRecord(parent)) delete parent[key];
  else return false;
  return true;
}

/** Replaces a broken step by an inert one of the same id: its output is unknown (dyn), it calls nothing. */
function replaceStep(root: unknown, endpoint: number, index: number): boolean {
  const flow = at(root, ['endpoints', endpoint, 'flow']);
  if (!Array.isArray(flow)) return false;
  const old: unknown = flow[index];
  const id = isRecord(old) && typeof old.id === 'string' && old.id !== '' ? old.id : `__invalid_${index}`;
  flow[index] = { id, map: '{{ dyn(null) }}' };
  return true;
}

function at(root: unknown, path: ConfigPath): unknown {
  let value = root;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function isRecord(value: unknown): value is Record<string | number, unknown> {
  return typeof value === 'object' && value !== null;
}
