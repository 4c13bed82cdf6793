/**
 * The examples are loaded and smoke-run: what the README shows must run.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { startGatewayFromFile } from './support/gateway.ts';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const run = promisify(execFile);

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

  test('npm start serves MediaCo, every printed curl command works as shown, and Ctrl-C stops it cleanly', async () => {
    const child = spawn(process.execPath, [path.join(EXAMPLES, 'mediaco/start.js')], {
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
      // Each printed line is run as it is, by a shell, with the real curl.
      const lines = [...output.matchAll(/^ {2}(curl .*)$/gm)].map((m) => m[1]!);
      assert.equal(lines.length, 9, output);
      const answers = new Map<string, Record<string, unknown>>();
      for (const line of lines) {
        const { stdout } = await run('sh', ['-c', line]);
        answers.set(line, JSON.parse(stdout) as Record<string, unknown>);
      }
      const answer = (fragment: string): Record<string, unknown> =>
        answers.get(lines.find((line) => line.includes(fragment))!)!;
      const film = answer('items/mc-0001 ');
      assert.equal(film.title, 'The Long Night');
      assert.deepEqual(film.genres, ['drama', 'thriller']);
      assert.equal(typeof (film.rating as { score: number }).score, 'number');
      assert.equal(answer('mc-0101').source, 'nordic-music');
      assert.equal(answer('mc-0201').source, 'anime-tv');
      assert.equal(answer('mc-0301').source, 'uk-archive');
      const found = answer('search') as { items: { title: string }[] };
      assert.ok(found.items.length === 5 && found.items.every((i) => /night/i.test(i.title)));
      assert.equal((answer('/related').items as unknown[]).length, 6);
      assert.equal((answer('reviews').rating as { id: string }).id, 'mc-0001');
      assert.equal(answer('bad-id').code, 'CHORUS_VALIDATION_FAILED');
      assert.equal(answers.get(lines.at(-1)!)!.code, 'CHORUS_UNAUTHORIZED');
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
