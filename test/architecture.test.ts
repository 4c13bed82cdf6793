/**
 * The layering of src/, checked from the imports themselves (type-only imports included):
 * imports point only down the layers, siblings of one layer do not import each other, and no
 * file reaches itself through its imports. docs/architecture.md draws the same table.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../src');

/**
 * Each top-level folder (or root file) of src/ and its layer; a module may import only from a
 * lower layer or from its own folder. Same-layer folders are siblings and stay apart.
 */
export const LAYERS: Readonly<Record<string, number>> = {
  contracts: 0, // types only: the shapes the layers agree on
  errors: 1,
  json: 1,
  config: 2, // load, positions, units, the core schema and the builder the modules fill in
  expressions: 2,
  xml: 3,
  state: 3,
  types: 3, // the flow type model: JSON Schemas of inputs and outputs, expressions typed against them
  transports: 4, // the HTTP transport every HTTP-based connector shares
  connectors: 5,
  policies: 5,
  observability: 6,
  engine: 7,
  portal: 8,
  server: 9,
  modules: 10, // the one list of connector and policy modules
  gateway: 11, // the one place that wires a gateway from config
  cli: 12,
  index: 12,
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every non-test .ts file under src/, as paths relative to src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'assets' || entry.name === 'fixtures' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path.relative(SRC, full)] : [];
  });
}

/** The relative imports of a file, resolved to paths relative to src/. */
export function importsOf(file: string, text = readFileSync(path.join(SRC, file), 'utf8')): string[] {
  return [...text.matchAll(IMPORT)].map((match) =>
    path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), match[1]!)),
  );
}

function layerOf(file: string): { name: string; rank: number | undefined } {
  const name = file.split(path.sep)[0]!.replace(/\.ts$/, '');
  return { name, rank: LAYERS[name] };
}

/** The imports that break the layering, as "from → to (why)". */
export function layeringViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    if (from.rank === undefined) {
      found.push(`${file}: folder "${from.name}" has no layer in test/architecture.test.ts`);
      continue;
    }
    for (const target of imports) {
      const to = layerOf(target);
      if (to.name === from.name) continue;
      if (to.rank === undefined) found.push(`${file} → ${target} (not under src/ or no layer)`);
      else if (to.rank > from.rank)
        found.push(`${file} → ${target} (${from.name} may not import ${to.name}, a higher layer)`);
      else if (to.rank === from.rank)
        found.push(`${file} → ${target} (${from.name} and ${to.name} are siblings)`);
    }
  }
  return found;
}

/** Import cycles between files, each as a → b → a. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 1);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 2);
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

function sourceGraph(): Map<string, string[]> {
  return new Map(sourceFiles().map((file) => [file, importsOf(file)]));
}

test('imports in src/ point only down the layers', () => {
  assert.deepEqual(layeringViolations(sourceGraph()), []);
});

test('no file in src/ reaches itself through its imports, type-only imports included', () => {
  assert.deepEqual(
    importCycles(sourceGraph()).map((cycle) => cycle.join(' → ')),
    [],
  );
});

test('contracts/ holds types only', () => {
  for (const file of sourceFiles(path.join(SRC, 'contracts'))) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    assert.doesNotMatch(text, /^export (?:const|function|class|let|enum)/m, `${file} exports a value`);
    assert.doesNotMatch(text, /^import (?!type )/m, `${file} imports a value`);
  }
});

test('an upward import is reported with the two layers it crosses', () => {
  const graph = new Map([['config/schema.ts', ['connectors/http/index.ts']]]);
  assert.deepEqual(layeringViolations(graph), [
    'config/schema.ts → connectors/http/index.ts (config may not import connectors, a higher layer)',
  ]);
});

test('a type-only import is read like any other', () => {
  assert.deepEqual(
    importsOf('engine/plan.ts', "import type { Connector } from '../contracts/connector.ts';\n"),
    ['contracts/connector.ts'],
  );
});

test('only the server imports node:http', () => {
  const allowed = ['server', 'transports'];
  for (const file of sourceFiles()) {
    if (allowed.includes(layerOf(file).name)) continue;
    const text = readFileSync(path.join(SRC, file), 'utf8');
    assert.doesNotMatch(text, /from 'node:http'/, `${file} imports node:http`);
  }
});
