import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_SEMI_SPACE_MB, runtimeFlags } from './runtime-flags.ts';

const FLAG = `--max-semi-space-size=${DEFAULT_MAX_SEMI_SPACE_MB}`;
const RUNTIME_FLAGS = fileURLToPath(new URL('./runtime-flags.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/chorus.js', import.meta.url));

describe('runtime flags', () => {
  test('the young generation is bounded unless node is already told how to size it', () => {
    assert.deepEqual(runtimeFlags([], undefined), [FLAG]);
    assert.deepEqual(runtimeFlags(['--enable-source-maps'], '--trace-warnings'), [FLAG]);
    assert.deepEqual(runtimeFlags(['--max-semi-space-size=64'], undefined), []);
    assert.deepEqual(runtimeFlags([], ' --max_semi_space_size=4 '), []);
    assert.deepEqual(runtimeFlags(['--max-heap-size=512'], ''), []);
    // --max-old-space-size bounds another space: the young generation is still bounded.
    assert.deepEqual(runtimeFlags([], '--max-old-space-size=1024'), [FLAG]);
  });

  test('applyRuntimeFlags re-executes the same process (same pid, same arguments) with the flag, once', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-runtime-flags-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'probe.ts');
    await writeFile(
      script,
      `import v8 from 'node:v8';
import { applyRuntimeFlags } from ${JSON.stringify(RUNTIME_FLAGS)};
process.stdout.write(\`start \${process.pid}\\n\`);
applyRuntimeFlags();
const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(2), young: young !== undefined }) + '\\n');
`,
    );
    const run = (env: NodeJS.ProcessEnv): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, [script, 'a', '--b'], { env, timeout: 20_000 }, (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        );
      });
    const lines = (await run({ ...process.env, NODE_OPTIONS: '' })).trim().split('\n');
    // Printed "start" twice (before and after the exec), then the result, all by one pid.
    assert.equal(lines.length, 3);
    const result = JSON.parse(lines[2]!) as { pid: number; execArgv: string[]; argv: string[] };
    assert.equal(lines[0], `start ${result.pid}`);
    assert.equal(lines[1], `start ${result.pid}`);
    assert.deepEqual(result.execArgv, [FLAG]);
    assert.deepEqual(result.argv, ['a', '--b']);

    const own = (await run({ ...process.env, NODE_OPTIONS: '--max-semi-space-size=8' })).trim().split('\n');
    assert.equal(own.length, 2, 'a flag in NODE_OPTIONS wins: no re-execution');
  });

  test('chorus start serves with the flag, as one process that SIGTERM stops', async (t) => {
    if (process.platform !== 'linux') return t.skip('reads /proc');
    const dir = await mkdtemp(path.join(tmpdir(), 'chorus-runtime-flags-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'gateway.yaml');
    await writeFile(
      file,
      `services:
  b: { kind: http, url: http://127.0.0.1:9, operations: { get: { path: /x } } }
endpoints:
  - { method: GET, path: /x, flow: [{ id: s, call: b.get }] }
`,
    );
    const child = spawn(process.execPath, [CLI, 'start', file, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    try {
      // Keep reading stdout to the end: a gateway whose stdout is closed does not log its way out.
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          out += String(chunk);
          if (out.includes('chorus listening on')) resolve();
        });
        child.once('exit', () => reject(new Error(`chorus start exited:\n${out}`)));
      });
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(cmdline.includes(FLAG), cmdline.join(' '));
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
