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
import { didYouMean } from './did-you-mean.ts';
import { readConfigFast } from './fast-yaml.ts';
import { type ConfigIssue, type ConfigPath, formatPath, type Locate, type SourcePosition } from './issues.ts';
import { knownKeysAt } from './known-keys.ts';
import { repairConfig } from './repair.ts';
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
  | {
      ok: false;
      issues: ConfigIssue[];
      /**
       * For `chorus validate` only: the config repaired just enough to compile (see repair.ts), so
       * the compiler's problems can be reported with the schema's; never served.
       */
      partial?: PartialConfig<Config>;
    };

/** A config with schema problems, repaired to be compiled for its other problems. */
export interface PartialConfig<Config> {
  loaded: LoadedConfig<Config>;
  /** Services removed by the repair: "unknown service" problems about them are echoes. */
  removedServices: ReadonlySet<string>;
}

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
  const { doc, at, locate } = parseForPositions(text);
  const issues: ConfigIssue[] = [];
  // A key written twice is reported at each repeat, and the rest of the file is still checked
  // (the document is whole: the last value wins, as most YAML readers do).
  for (const error of doc.errors.filter((found) => found.code === 'DUPLICATE_KEY')) {
    issues.push({
      file,
      path: [],
      message: `${duplicateKeyName(text, error.pos)}appears twice in the same map: remove or rename one of them`,
      position: at(error.pos[0]),
    });
  }
  const syntaxError = doc.errors.find((found) => found.code !== 'DUPLICATE_KEY');
  if (syntaxError) {
    // Only the first syntax error: the ones after it are nearly always its echoes.
    const message = `YAML syntax: ${syntaxError.message.split('\n')[0] ?? syntaxError.message}${syntaxHint(text, syntaxError.pos[0]) || YAML_HINTS[syntaxError.code] || ''}`;
    return { ok: false, issues: [...issues, { file, path: [], message, position: at(syntaxError.pos[0]) }] };
  }
  const sourceIssues = [...interpolateEnv(doc, env, file, at), ...collectionKeys(doc, file, at)];
  issues.push(...sourceIssues);
  // A missing variable already has its issue: validating the empty value would only echo it.
  if (sourceIssues.length > 0) return { ok: false, issues };
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const validation = validateConfig(schema, raw, file, locate);
  issues.push(...validation.issues);
  if (issues.length > 0 || !validation.config) {
    const repaired = validation.config === undefined ? repairConfig(schema, raw) : undefined;
    const partialConfig = validation.config ?? repaired?.config;
    if (partialConfig === undefined) return { ok: false, issues };
    const partial: PartialConfig<Config> = {
      loaded: { config: partialConfig, file, baseDir, locate },
      removedServices: repaired?.removedServices ?? new Set(),
    };
    return { ok: false, issues, partial };
  }
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

/** `key "name" ` for the duplicate key at a range of the text, or '' when it cannot be read. */
function duplicateKeyName(text: string, range: readonly [number, number]): string {
  const lineEnd = text.indexOf('\n', range[0]);
  const rest = text.slice(range[0], lineEnd === -1 ? undefined : lineEnd);
  const key = (/^\s*("[^"]*"|'[^']*'|[^:]*?)\s*:/.exec(rest)?.[1] ?? '').replace(/^["']|["']$/g, '');
  return key !== '' && key.length <= 80 && !key.includes('\n') ? `key "${key}" ` : 'a key ';
}

/** Hints for the YAML mistakes people make most, by the yaml library's error code. */
const YAML_HINTS: Partial<Record<string, string>> = {
  TAB_AS_INDENT: ' (indent with spaces, not tabs)',
  BAD_INDENT: ' (the items of one map or list start at the same column)',
  BLOCK_AS_IMPLICIT_KEY: ' (put a nested map on its own indented lines, or quote a value that holds ": ")',
  MULTILINE_IMPLICIT_KEY: ' (a key is on one line; quote a value that holds ": ")',
  MISSING_CHAR: ' (a quote or bracket is not closed)',
  BAD_DQ_ESCAPE: ' (in "double quotes" a backslash starts an escape: use \\\\ or single quotes)',
  UNEXPECTED_TOKEN: ' (quote values that start with @, `, %, * or &)',
};

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
  const context: IssueContext = { schema: schema as z.ZodType, raw, file, locate };
  const issues = result.error.issues.flatMap((issue) => zodIssueToConfigIssues(issue, context));
  return { issues: withoutEchoes(issues) };
}

/** What turning a zod issue into a config issue needs: the schema and value (for did-you-mean). */
interface IssueContext {
  schema: z.ZodType;
  raw: unknown;
  file: string;
  locate: Locate;
}

const STEP_BODY_KEYS = new Set(['call', 'map', 'code']);

/**
 * Drops "a step needs one of call, map or code" where the step has a misspelt one of them
 * (`cal:`): the unknown key, with its did-you-mean, already says it.
 */
function withoutEchoes(issues: ConfigIssue[]): ConfigIssue[] {
  const misspeltBody = new Set(
    issues
      .filter((issue) =>
        [...STEP_BODY_KEYS].some((key) => issue.message.includes(`(did you mean "${key}"?)`)),
      )
      .map((issue) => formatPath(issue.path.slice(0, -1))),
  );
  return issues.filter(
    (issue) =>
      !(
        issue.message.endsWith('a step needs one of call, map or code') &&
        misspeltBody.has(formatPath(issue.path))
      ),
  );
}

function zodIssueToConfigIssues(issue: z.core.$ZodIssue, context: IssueContext): ConfigIssue[] {
  const { file, locate } = context;
  const issuePath = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(context.schema, context.raw, issuePath);
    return issue.keys.map((key) => {
      const keyPath = [...issuePath, key];
      const position = locate(keyPath, { key: true });
      return withPosition(
        { file, path: keyPath, message: `unknown key "${key}"${suggestKey(key, known)}` },
        position,
      );
    });
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
    // A discriminated union (a service's kind): name the value and the close option.
    const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
    const value = valueAt(context.raw, issuePath);
    const where = formatPath(issuePath);
    const message =
      value === undefined
        ? `${where}: is required (one of ${options.join(', ')})`
        : `${where}: unknown ${issue.discriminator} ${JSON.stringify(value)}${didYouMean(String(value), options)} (${issue.discriminator}s: ${options.join(', ')})`;
    return [withPosition({ file, path: issuePath, message }, locate(issuePath))];
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A union failed every branch: report the branch that got furthest (most specific path).
    const best = issue.errors
      .flat()
      .sort((a, b) => b.path.length - a.path.length)
      .at(0);
    if (best && best.path.length > 0) {
      return zodIssueToConfigIssues({ ...best, path: [...issuePath, ...best.path] }, context);
    }
  }
  const where = issuePath.length > 0 ? `${formatPath(issuePath)}: ` : '';
  const position = locate(issuePath);
  return [
    withPosition(
      { file, path: issuePath, message: where + describeZodIssue(issue, valueAt(context.raw, issuePath)) },
      position,
    ),
  ];
}

function valueAt(raw: unknown, at: ConfigPath): unknown {
  let value = raw;
  for (const part of at) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** "a string", "a list", "nothing": what a value is, in the words of the messages. */
function kindOfValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'number' ? 'the number' : 'the value'} ${String(value)}`;
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  record: 'a map',
  map: 'a map',
};

function withPosition(issue: ConfigIssue, position: SourcePosition | undefined): ConfigIssue {
  return position ? { ...issue, position } : issue;
}

/** A bound in plain words: "must be at least 0", "must have at most 10 items". */
function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = Number(
    small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum,
  );
  const inclusive = issue.inclusive !== false;
  const word = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  switch (issue.origin) {
    case 'string':
      return `must be ${word} ${bound} character${bound === 1 ? '' : 's'} long`;
    case 'array':
    case 'set':
      return `must have ${word} ${bound} item${bound === 1 ? '' : 's'}`;
    default:
      return `must be ${word} ${bound}`;
  }
}

/** A zod issue in plain words (zod's own wording, "Invalid input: …", is written for developers). */
function describeZodIssue(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_type') {
    const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
    if (value === undefined) return `is required (${expected})`;
    return `expected ${expected}, got ${kindOfValue(value)}`;
  }
  if (issue.code === 'invalid_value' && Array.isArray(issue.values)) {
    const options = issue.values.map(String);
    return `${JSON.stringify(value) ?? 'nothing'} is not allowed here${didYouMean(String(value), options)} (one of: ${options.join(', ')})`;
  }
  if (issue.code === 'invalid_union') return `${kindOfValue(value)} does not fit here (see docs/config.md)`;
  if (issue.code === 'too_small' || issue.code === 'too_big') return sizeMessage(issue);
  return issue.message.replace(/^Invalid input: /, '');
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

function suggestKey(key: string, known: readonly string[]): string {
  const hint = KNOWN_KEY_HINTS[key];
  if (hint) return ` (did you mean "${hint}"?)`;
  const close = didYouMean(key, known);
  if (close !== '') return close;
  return known.length > 0 && known.length <= 16 ? ` (keys here: ${known.join(', ')})` : '';
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
  if (!validation.config) {
    const repaired = repairConfig(schema, exported);
    return repaired === undefined
      ? { ok: false, issues: validation.issues }
      : {
          ok: false,
          issues: validation.issues,
          partial: {
            loaded: { config: repaired.config, file, baseDir, locate },
            removedServices: repaired.removedServices,
          },
        };
  }
  return { ok: true, loaded: { config: validation.config, file, baseDir, locate } };
}
