/**
 * Loading a config file: YAML or JSON parsed with source positions (the `yaml` library keeps
 * node ranges), `${env.NAME}` interpolation, and validation against the schema. Every problem is
 * collected and reported at once as `file:line:col message`. TypeScript configs (defineConfig)
 * are imported as modules and validated the same way, without positions.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  parse as parseYamlScalar,
  Scalar,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { readConfigFast } from './fast-yaml.ts';
import { type ConfigIssue, type ConfigPath, formatPath, type Locate, type SourcePosition } from './issues.ts';
import type { CoreConfig } from './schema.ts';

/** A validated config and what is needed to point back into its source. */
export interface LoadedConfig<Config = CoreConfig> {
  config: Config;
  /** The file as given (used in messages). */
  file: string;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
  locate: Locate;
}

/** The outcome of loading: a config, or every issue found. */
export type LoadResult<Config = CoreConfig> =
  | { ok: true; loaded: LoadedConfig<Config> }
  | { ok: false; issues: ConfigIssue[] };

/** Loads, interpolates and validates configs of one format (the schema the modules assemble). */
export interface ConfigLoader<Config> {
  /** Loads a config file (YAML, JSON, or a TS/JS module exporting defineConfig()). */
  loadConfig(file: string, options?: LoadOptions): Promise<LoadResult<Config>>;
  /** Parses and validates config text; `file` is only used in messages. */
  loadConfigText(
    text: string,
    file: string,
    baseDir: string,
    env?: Record<string, string | undefined>,
  ): LoadResult<Config>;
  /** Validates a config object, turning zod issues into located config issues. */
  validateConfig(raw: unknown, file: string, locate: Locate): { config?: Config; issues: ConfigIssue[] };
}

/** The loader of the config format `schema` describes. */
export function createConfigLoader<Config>(schema: z.ZodType<Config>): ConfigLoader<Config> {
  return {
    loadConfig: (file, options) => loadConfig(schema, file, options),
    loadConfigText: (text, file, baseDir, env) => loadConfigText(schema, text, file, baseDir, env),
    validateConfig: (raw, file, locate) => validateConfig(schema, raw, file, locate),
  };
}

/** Options of loadConfig. */
export interface LoadOptions {
  /** Variables for ${env.NAME} (default: process.env). */
  env?: Record<string, string | undefined>;
}

const TS_CONFIG = /\.(m?ts|m?js)$/;

async function loadConfig<Config>(
  schema: z.ZodType<Config>,
  file: string,
  options: LoadOptions = {},
): Promise<LoadResult<Config>> {
  const env = options.env ?? process.env;
  const baseDir = path.dirname(path.resolve(file));
  if (TS_CONFIG.test(file)) return loadModuleConfig(schema, file, baseDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    return { ok: false, issues: [{ file, path: [], message: `cannot read the config: ${reason}` }] };
  }
  return loadConfigText(schema, text, file, baseDir, env);
}

function loadConfigText<Config>(
  schema: z.ZodType<Config>,
  text: string,
  file: string,
  baseDir: string,
  env: Record<string, string | undefined> = process.env,
): LoadResult<Config> {
  // A config valid as written needs no source positions until compiling it reports a problem.
  const fast = readConfigFast(text);
  if (fast !== undefined) {
    let full: Locate | undefined;
    const locate: Locate = (keyPath, options) => {
      full ??= parseForPositions(text).locate;
      return full(keyPath, options);
    };
    const validation = validateConfig(schema, fast, file, locate);
    if (validation.config && validation.issues.length === 0) {
      return { ok: true, loaded: { config: validation.config, file, baseDir, locate } };
    }
    // Problems: the full parse below finds them all, with positions and the YAML-level checks.
  }
  const { doc, at } = parseForPositions(text);
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    // Only the first syntax error: the ones after it are nearly always its echoes.
    const message = `YAML syntax: ${syntaxError.message.split('\n')[0] ?? syntaxError.message}${syntaxHint(text, syntaxError.pos[0])}`;
    return { ok: false, issues: [{ file, path: [], message, position: at(syntaxError.pos[0]) }] };
  }
  const issues: ConfigIssue[] = [];
  issues.push(...interpolateEnv(doc, env, file, at));
  issues.push(...collectionKeys(doc, file, at));
  // A missing variable already has its issue: validating the empty value would only echo it.
  if (issues.length > 0) return { ok: false, issues };
  const locate = createLocate(doc, at);
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const validation = validateConfig(schema, raw, file, locate);
  issues.push(...validation.issues);
  if (issues.length > 0 || !validation.config) return { ok: false, issues };
  return { ok: true, loaded: { config: validation.config, file, baseDir, locate } };
}

/** The `yaml` library's document of the text, with what turns an offset into a line and column. */
function parseForPositions(text: string): {
  doc: Document;
  at: (offset: number) => SourcePosition;
  locate: Locate;
} {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  return { doc, at, locate: createLocate(doc, at) };
}

function syntaxHint(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset) + 1;
  const line = text.slice(
    lineStart,
    text.indexOf('\n', offset) === -1 ? undefined : text.indexOf('\n', offset),
  );
  return line.includes('{{') || /\{[A-Za-z_]/.test(line)
    ? ' (quote strings that contain { } such as "{{ expression }}" or "/items/{id}")'
    : '';
}

function validateConfig<Config>(
  schema: z.ZodType<Config>,
  raw: unknown,
  file: string,
  locate: Locate,
): { config?: Config; issues: ConfigIssue[] } {
  const result = schema.safeParse(raw);
  if (result.success) return { config: result.data, issues: [] };
  return { issues: result.error.issues.flatMap((issue) => zodIssueToConfigIssues(issue, file, locate)) };
}

function zodIssueToConfigIssues(issue: z.core.$ZodIssue, file: string, locate: Locate): ConfigIssue[] {
  const issuePath = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = [...issuePath, key];
      const position = locate(keyPath, { key: true });
      return withPosition(
        { file, path: keyPath, message: `unknown key "${key}"${suggestKey(key)}` },
        position,
      );
    });
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A union failed every branch: report the branch that got furthest (most specific path).
    const best = issue.errors
      .flat()
      .sort((a, b) => b.path.length - a.path.length)
      .at(0);
    if (best && best.path.length > 0) {
      return zodIssueToConfigIssues({ ...best, path: [...issuePath, ...best.path] }, file, locate);
    }
  }
  const where = issuePath.length > 0 ? `${formatPath(issuePath)}: ` : '';
  const position = locate(issuePath);
  return [withPosition({ file, path: issuePath, message: where + describeZodIssue(issue) }, position)];
}

function withPosition(issue: ConfigIssue, position: SourcePosition | undefined): ConfigIssue {
  return position ? { ...issue, position } : issue;
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `is required (${issue.expected})`;
  }
  return issue.message;
}

const KNOWN_KEY_HINTS: Record<string, string> = {
  steps: 'flow',
  params: 'input.params',
  query: 'input.query',
  backend: 'call',
  service: 'call',
  condition: 'when',
  if: 'when',
  each: 'forEach',
  foreach: 'forEach',
  timeoutMs: 'timeout',
  baseUrl: 'url',
};

function suggestKey(key: string): string {
  const hint = KNOWN_KEY_HINTS[key];
  return hint ? ` (did you mean "${hint}"?)` : '';
}

function createLocate(doc: Document, at: (offset: number) => SourcePosition): Locate {
  return (keyPath, options) => {
    // Walk down as far as the path exists; report the deepest node found.
    let node: unknown = doc.contents;
    let position: SourcePosition | undefined = rangeStart(node, at);
    for (let i = 0; i < keyPath.length; i++) {
      const part = keyPath[i];
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
        if (!pair) break;
        const isLast = i === keyPath.length - 1;
        if (isLast && options?.key) return rangeStart(pair.key, at) ?? position;
        node = pair.value;
        position = rangeStart(pair.value, at) ?? rangeStart(pair.key, at) ?? position;
        if (isLast && options?.offset !== undefined && isScalar(node) && position) {
          return withinScalar(node, position, options.offset);
        }
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part];
        if (item === undefined) break;
        node = item;
        position = rangeStart(item, at) ?? position;
      } else {
        break;
      }
    }
    return position;
  };
}

/** The position of a character inside a scalar: quoted scalars start one column after their quote. */
function withinScalar(node: Scalar, start: SourcePosition, offset: number): SourcePosition {
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) {
    return { line: start.line, col: start.col + 1 + offset };
  }
  if (node.type === Scalar.PLAIN) return { line: start.line, col: start.col + offset };
  return start; // block scalars: the value starts on the next line; point at the key's value
}

function rangeStart(node: unknown, at: (offset: number) => SourcePosition): SourcePosition | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? at(range[0]) : undefined;
}

const ENV_REFERENCE = /\$(\$?)\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_ENV_REFERENCE = /^\$\{env\.[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/**
 * Replaces `${env.NAME}` and `${env.NAME:-default}` in string scalars. `$${env.NAME}` stays
 * literal. An unquoted scalar that is one whole reference is re-read as YAML, so `port: ${env.PORT}`
 * gives a number.
 */
function interpolateEnv(
  doc: Document,
  env: Record<string, string | undefined>,
  file: string,
  at: (offset: number) => SourcePosition,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('{env.')) return;
      const original = node.value;
      const replaced = original.replace(
        ENV_REFERENCE,
        (match, escaped: string, name: string, fallback?: string) => {
          if (escaped) return match.slice(1);
          const value = env[name];
          if (value !== undefined && value !== '') return value;
          if (fallback !== undefined) return fallback;
          issues.push({
            file,
            path: pathOf(ancestors, node),
            message: `environment variable ${name} is not set (give a default with \${env.${name}:-value})`,
            ...(node.range ? { position: at(node.range[0]) } : {}),
          });
          return '';
        },
      );
      node.value =
        node.type === Scalar.PLAIN && WHOLE_ENV_REFERENCE.test(original)
          ? parseYamlScalar(replaced)
          : replaced;
    },
  });
  return issues;
}

/**
 * Map keys that are maps or lists: in YAML, an unquoted `{{ expr }}` is a map whose key is a map,
 * which would load silently as nonsense. Every key in a Chorus config is a plain string.
 */
function collectionKeys(doc: Document, file: string, at: (offset: number) => SourcePosition): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Pair(_key, pair, ancestors) {
      if (!isMap(pair.key) && !isSeq(pair.key)) return;
      const range = (pair.key as Node).range;
      issues.push({
        file,
        path: pathOf(ancestors, pair),
        message: 'a key cannot be a map or a list: quote expressions, as in "{{ request.params.id }}"',
        ...(range ? { position: at(range[0]) } : {}),
      });
    },
  });
  return issues;
}

function pathOf(ancestors: readonly unknown[], node: unknown): ConfigPath {
  const out: (string | number)[] = [];
  let child: unknown = node;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const parent = ancestors[i];
    if (isPair(parent)) {
      if (isScalar(parent.key)) out.unshift(String(parent.key.value));
    } else if (isSeq(parent)) {
      out.unshift(parent.items.indexOf(child as never));
    }
    child = parent;
  }
  return out;
}

async function loadModuleConfig<Config>(
  schema: z.ZodType<Config>,
  file: string,
  baseDir: string,
): Promise<LoadResult<Config>> {
  let exported: unknown;
  try {
    const module = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
    exported = module.default;
  } catch (error) {
    return {
      ok: false,
      issues: [{ file, path: [], message: `cannot import the config module: ${(error as Error).message}` }],
    };
  }
  if (exported === undefined) {
    return {
      ok: false,
      issues: [
        {
          file,
          path: [],
          message: 'the module has no default export (use export default defineConfig({...}))',
        },
      ],
    };
  }
  const locate: Locate = () => undefined;
  const validation = validateConfig(schema, exported, file, locate);
  if (!validation.config) return { ok: false, issues: validation.issues };
  return { ok: true, loaded: { config: validation.config, file, baseDir, locate } };
}
