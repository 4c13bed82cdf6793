/**
 * The examples are loaded and smoke-run: what the README shows must run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { formatIssue } from '../src/config/issues.ts';
import { loadConfig } from '../src/config/load.ts';
import { compilePlan } from '../src/engine/compile.ts';
import { startGatewayFromFile } from './support/gateway.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

async function exampleConfigs(): Promise<string[]> {
  const found: string[] = [];
  for (const dir of await readdir(EXAMPLES, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const name of await readdir(path.join(EXAMPLES, dir.name))) {
      if (/^gateway\.(ya?ml|json|config\.ts)$/.test(name)) found.push(path.join(EXAMPLES, dir.name, name));
    }
  }
  return found;
}

describe('examples', () => {
  test('every example config loads and compiles', async () => {
    const configs = await exampleConfigs();
    assert.ok(configs.length >= 2, `found ${configs.length} example configs`);
    for (const file of configs) {
      const loaded = await loadConfig(file);
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.issues.map(formatIssue).join('\n'));
      const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
      assert.ok(compiled.ok, compiled.ok ? '' : compiled.issues.map(formatIssue).join('\n'));
      await compiled.plan.close();
    }
  });

  test('the TypeScript example answers with its code steps applied in order', async () => {
    const gateway = await startGatewayFromFile(path.join(EXAMPLES, 'typescript/gateway.config.ts'));
    try {
      const res = await fetch(`${gateway.url}/quote?amount=100&country=NL`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { net: 100, vatRate: 0.21, gross: 121, currency: 'EUR' });
    } finally {
      await gateway.close();
    }
  });

  test('npm start serves MediaCo, every printed curl command works, and Ctrl-C stops it cleanly', async () => {
    const child = spawn(process.execPath, [path.join(EXAMPLES, 'mediaco/start.ts')], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      // Keep reading to the end: a closed pipe would make the child's last lines fail.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += String(chunk);
          if (output.includes('Press Ctrl-C to stop.')) resolve();
        });
        child.once('exit', () => reject(new Error(`npm start exited early:\n${output}`)));
      });
      const curls = [...output.matchAll(/^\s+curl -s "?([^"\s]+)"?/gm)].map((m) => m[1]!);
      assert.equal(curls.length, 3, output);
      const [item, search, bad] = await Promise.all(curls.map((url) => fetch(url)));
      assert.equal(item!.status, 200);
      const body = (await item!.json()) as Record<string, unknown>;
      assert.equal(body.id, 'mc-0001');
      assert.equal(body.title, 'The Long Night');
      assert.deepEqual(body.genres, ['drama', 'thriller']);
      assert.equal(typeof (body.rating as { score: number }).score, 'number');
      assert.equal(search!.status, 200);
      const found = (await search!.json()) as { items: { title: string }[] };
      assert.ok(found.items.length > 0 && found.items.every((i) => /night/i.test(i.title)));
      assert.equal(bad!.status, 400);
      const unknown = await fetch(curls[0]!.replace('mc-0001', 'mc-9999'));
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as { code: string }).code, 'MEDIACO_ITEM_NOT_FOUND');
      assert.equal(((await bad!.json()) as { code: string }).code, 'CHORUS_VALIDATION_FAILED');
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
