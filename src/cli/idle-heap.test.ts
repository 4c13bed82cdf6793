import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const IDLE_HEAP = fileURLToPath(new URL('./idle-heap.ts', import.meta.url));

test('the idle heap watch neither exposes gc() to the process nor keeps it alive', async () => {
  const script = `import { watchIdleHeap } from ${JSON.stringify(IDLE_HEAP)};
watchIdleHeap();
process.stdout.write(String(typeof globalThis.gc));`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, out) => (error ? reject(error) : resolve(out)),
    );
  });
  assert.equal(stdout, 'undefined');
});
