/**
 * The keys the schema accepts at a place in a config, for "did you mean" on an unknown key. Walks
 * the zod schema along the key path, choosing the union branch the config's own value selects
 * (a service's `kind`).
 */
import type { z } from 'zod';
import type { ConfigPath } from './issues.ts';

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  valueType?: z.ZodType;
  element?: z.ZodType;
  getter?: () => z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The object schemas a value at this place may match (wrappers unwrapped, unions chosen by the value). */
function objectsOf(schema: z.ZodType, value: unknown, depth = 0): SchemaDef[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return [def];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return def.innerType ? objectsOf(def.innerType, value, depth + 1) : [];
    case 'pipe':
      return def.in ? objectsOf(def.in, value, depth + 1) : [];
    case 'lazy':
      return def.getter ? objectsOf(def.getter(), value, depth + 1) : [];
    case 'intersection':
      return [
        ...(def.left ? objectsOf(def.left, value, depth + 1) : []),
        ...(def.right ? objectsOf(def.right, value, depth + 1) : []),
      ];
    case 'union': {
      const options = def.options ?? [];
      const objects = options.flatMap((option) => objectsOf(option, value, depth + 1));
      const discriminator = def.discriminator;
      if (discriminator !== undefined && typeof value === 'object' && value !== null) {
        const selected = (value as Record<string, unknown>)[discriminator];
        const chosen = objects.filter((object) => {
          const field = object.shape?.[discriminator];
          return field !== undefined && literalValues(field).includes(selected);
        });
        if (chosen.length > 0) return chosen;
      }
      return objects;
    }
    default:
      return [];
  }
}

function literalValues(schema: z.ZodType): unknown[] {
  const def = defOf(schema) as SchemaDef & { values?: unknown[] };
  if (def.type === 'literal' && Array.isArray(def.values)) return def.values;
  if (def.innerType) return literalValues(def.innerType);
  return [];
}

/** The schema of a child (key or index) of a value matching `schema`. */
function childSchemas(schema: z.ZodType, value: unknown, key: string | number, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'array':
      return def.element ? [def.element] : [];
    case 'record':
      return def.valueType ? [def.valueType] : [];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return def.innerType ? childSchemas(def.innerType, value, key, depth + 1) : [];
    case 'pipe':
      return def.in ? childSchemas(def.in, value, key, depth + 1) : [];
    case 'lazy':
      return def.getter ? childSchemas(def.getter(), value, key, depth + 1) : [];
    default:
      return objectsOf(schema, value).flatMap((object) => {
        const field = object.shape?.[String(key)];
        return field ? [field] : [];
      });
  }
}

/** The keys accepted at `path` of `raw` (empty when the place is not an object or not known). */
export function knownKeysAt(schema: z.ZodType, raw: unknown, path: ConfigPath): string[] {
  let schemas: z.ZodType[] = [schema];
  let value: unknown = raw;
  for (const part of path) {
    schemas = schemas.flatMap((candidate) => childSchemas(candidate, value, part));
    value =
      typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
    if (schemas.length === 0) return [];
  }
  const keys = new Set<string>();
  for (const candidate of schemas) {
    for (const object of objectsOf(candidate, value))
      for (const key of Object.keys(object.shape ?? {})) keys.add(key);
  }
  return [...keys];
}
