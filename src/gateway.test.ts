/**
 * The wiring: src/gateway.ts builds connectors and policy stacks and hands them to the engine;
 * the engine builds neither, and the server reaches the policies' preflights and upstream
 * state only through the plan.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { formatIssue } from './config/issues.ts';
import { compilePlan } from './gateway.ts';
import { loadConfigText } from './modules.ts';

const SRC = import.meta.dirname;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** The folders of src/ that the non-test files of a folder import from. */
function importedFolders(folder: string): Set<string> {
  const found = new Set<string>();
  for (const name of readdirSync(path.join(SRC, folder))) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    const file = path.join(SRC, folder, name);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), match[1]!));
      found.add(target.split(path.sep)[0]!);
    }
  }
  return found;
}

describe('the wiring', () => {
  test('the engine builds no connector and no policy stack: it imports neither folder', () => {
    const folders = importedFolders('engine');
    assert.equal(folders.has('connectors'), false);
    assert.equal(folders.has('policies'), false);
  });

  test('the server reads preflights and upstream state from the plan, not from policies/', () => {
    const folders = importedFolders('server');
    assert.equal(folders.has('policies'), false);
    assert.equal(folders.has('connectors'), false);
  });

  test('a plan carries each endpoint’s preflight and every service’s upstream state', async () => {
    const loaded = loadConfigText(
      `services:
  lookup:
    kind: http
    url: http://127.0.0.1:9
    circuitBreaker: {}
    operations:
      locate: { path: /locate }
endpoints:
  - method: GET
    path: /with-cors
    policies: { cors: { origins: ["*"] } }
    flow: [{ id: where, call: lookup.locate }]
  - method: GET
    path: /plain
    flow: [{ id: ok, map: { ok: true } }]
`,
      'gateway.yaml',
      process.cwd(),
      {},
    );
    assert.ok(loaded.ok);
    const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
    assert.ok(compiled.ok, compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n'));
    try {
      const [withCors, plain] = compiled.plan.endpoints;
      assert.equal(typeof withCors?.preflight, 'function');
      assert.equal(plain?.preflight, undefined);
      const upstreams = compiled.plan.upstreams();
      assert.deepEqual(
        upstreams.map((status) => status.service),
        ['lookup'],
      );
      assert.ok('breaker' in upstreams[0]!);
    } finally {
      await compiled.plan.close();
    }
  });
});
