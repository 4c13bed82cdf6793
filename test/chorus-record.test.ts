/**
 * `chorus record` against the running MediaCo demo providers writes tests that pass on replay
 * with the providers stopped; the API key sent is not written to the file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDemoBackends } from '../examples/mediaco/backends/servers.ts';

const CLI = fileURLToPath(new URL('../bin/chorus.js', import.meta.url));
const MEDIACO = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'chorus-record-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 40_000, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const REQUESTS: [string, string, ...string[]][] = [
  ['GET', '/catalog/items/mc-0001'],
  ['GET', '/catalog/items/mc-0105'],
  ['GET', '/catalog/items/mc-0210'],
  ['GET', '/catalog/items/mc-0305'],
  ['GET', '/catalog/search?q=night&limit=5'],
  ['GET', '/catalog/items/mc-0002/related'],
  ['GET', '/catalog/items/mc-9999'],
  ['POST', '/catalog/items/mc-0003/reviews', '--body', '{"score":7,"author":"Ann"}'],
];

test('recorded MediaCo requests replay as passing tests with the providers stopped', async () => {
  const out = path.join(dir, 'recorded.test.yaml');
  const backends = await startDemoBackends({ nats: false });
  try {
    const env = { ...process.env, ...backends.gatewayEnv() };
    for (const [method, requestPath, ...extra] of REQUESTS) {
      const recorded = await run(
        [
          'record',
          MEDIACO,
          method,
          requestPath,
          '-H',
          'x-api-key: mediaco-demo-pro-key',
          '--out',
          out,
          ...extra,
        ],
        env,
      );
      assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
      assert.match(recorded.stdout, /set CHORUS_TEST_X_API_KEY when running the tests/);
    }
  } finally {
    await backends.close();
  }
  const written = readFileSync(out, 'utf8');
  assert.doesNotMatch(written, /mediaco-demo-pro-key/);
  assert.match(written, /x-api-key: \$\{env\.CHORUS_TEST_X_API_KEY\}/);
  assert.match(written, /nordic-music:\n\s+GetAlbum:\n\s+- input:/);
  const replay = await run(['test', out], {
    ...process.env,
    CHORUS_TEST_X_API_KEY: 'mediaco-demo-pro-key',
    LOOKUP_URL: 'http://127.0.0.1:1',
  });
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  assert.match(replay.stdout, new RegExp(`^${REQUESTS.length} passed, 0 failed$`, 'm'));
});
