/**
 * The chorus command as a user runs it: a separate process, its output and exit code.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { json, startBackend } from './support/backend.ts';
import { writeConfig } from './support/gateway.ts';

const CLI = fileURLToPath(new URL('../bin/chorus.js', import.meta.url));
const MEDIACO = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads a child's stdout until a line matches. */
async function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  let buffer = '';
  for await (const chunk of child.stdout!) {
    buffer += String(chunk);
    const line = buffer.split('\n').find((l) => pattern.test(l));
    if (line) return line;
  }
  throw new Error(`the process ended without printing ${pattern}; it printed:\n${buffer}`);
}

describe('chorus validate', () => {
  test('a config with three different mistakes prints all three with line:col and exits 1', async () => {
    const file = await writeConfig(`services:
  lookup:
    kind: http
    url: http://127.0.0.1:9
    operations:
      locate: { path: "/locate/{id}" }
endpoints:
  - method: GET
    path: /items/{id}
    flow:
      - id: where
        call: lookup.locte
        input: { params: { id: "{{ request.params.id }}" } }
      - id: item
        map: "{{ steps.wher.ref }}"
      - id: total
        map: { sum: "{{ 1 + * 2 }}" }
`);
    const { code, stderr } = await run(['validate', file]);
    assert.equal(code, 1);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 4, stderr);
    assert.equal(lines[0], `${file}:12:15 service "lookup" has no operation "locte" (operations: locate)`);
    assert.match(lines[1]!, new RegExp(`^${file}:15:18 unknown step "wher"`));
    assert.match(lines[2]!, new RegExp(`^${file}:17:\\d+ expression "1 \\+ \\* 2": `));
    assert.equal(lines[3], '3 problems found');
  });

  test('schema mistakes are all reported at once, each at its key', async () => {
    const file = await writeConfig(`server:
  port: eighty
endpoints:
  - method: FETCH
    path: /a
    flow: []
    respnse: {}
`);
    const { code, stderr } = await run(['validate', file]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`${file}:2:9 server.port: `));
    assert.match(stderr, new RegExp(`${file}:4:13 endpoints\\[0\\].method: `));
    assert.match(stderr, new RegExp(`${file}:7:5 unknown key "respnse"`));
  });

  test('a missing environment variable is named with its position', async () => {
    const file = await writeConfig(`services:
  a:
    kind: http
    url: \${env.CHORUS_TEST_SURELY_UNSET}
    operations: {}
`);
    const { code, stderr } = await run(['validate', file]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`${file}:4:10 environment variable CHORUS_TEST_SURELY_UNSET is not set`));
  });

  test('the MediaCo example is valid and the summary says what it holds', async () => {
    const { code, stdout } = await run(['validate', MEDIACO]);
    assert.equal(code, 0);
    assert.match(stdout, /valid — 8 services, 4 endpoints, 22 steps/);
  });

  test('a file that does not exist is a clear error', async () => {
    const { code, stderr } = await run(['validate', '/nonexistent/gateway.yaml']);
    assert.equal(code, 1);
    assert.match(stderr, /cannot read the config: no such file/);
  });
});

describe('chorus openapi, help and usage', () => {
  test('openapi prints an OpenAPI 3.1 document of the endpoints', async () => {
    const { code, stdout } = await run(['openapi', MEDIACO]);
    assert.equal(code, 0);
    const doc = JSON.parse(stdout) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/catalog/items/{id}']);
    assert.ok(doc.paths['/catalog/search']);
  });

  test('every command has --help, and an unknown command exits 1 with the usage', async () => {
    for (const command of ['start', 'validate', 'openapi', 'schema']) {
      const { code, stdout } = await run([command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`Usage: chorus ${command}`));
    }
    const unknown = await run(['serve']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "serve"/);
    assert.match(unknown.stderr, /chorus start <config>/);
  });

  test('openapi refuses a config whose flows do not compile, and start refuses an unknown log level', async () => {
    const file = await writeConfig(`endpoints:
  - { method: GET, path: /a, flow: [{ id: a, map: "{{ steps.nope }}" }] }
`);
    const openapi = await run(['openapi', file]);
    assert.equal(openapi.code, 1);
    assert.match(openapi.stderr, /unknown step "nope"/);
    const start = await run(['start', MEDIACO, '--log-level', 'loud']);
    assert.equal(start.code, 1);
    assert.match(start.stderr, /--log-level must be one of fatal, error, warn, info, debug, trace, silent/);
  });

  test('schema prints the JSON Schema of the config', async () => {
    const { code, stdout } = await run(['schema']);
    assert.equal(code, 0);
    assert.equal((JSON.parse(stdout) as { title: string }).title, 'Chorus gateway config');
  });
});

describe('chorus start', () => {
  test('serves a config, and on SIGTERM finishes the in-flight request before exiting 0', async () => {
    const backend = await startBackend((_req, res) => json(res, 200, { slow: true }, 400));
    const file = await writeConfig(`services:
  b: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - { method: GET, path: /slow, flow: [{ id: s, call: b.get }] }
`);
    const child = spawn(process.execPath, [CLI, 'start', file, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await waitForLine(child, /chorus listening on/);
      const url = (JSON.parse(line) as { url: string }).url;
      const inFlight = fetch(`${url}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.kill('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { slow: true });
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      await backend.close();
    }
  });

  test('SIGHUP reloads a changed config, and a broken one leaves the old config serving', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = await writeConfig(`endpoints:
  - { method: GET, path: /v, flow: [{ id: v, map: { version: 1 } }] }
`);
    const child = spawn(process.execPath, [CLI, 'start', file, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
    });
    try {
      await waitUntil(() => output.includes('chorus listening on'));
      const url = (JSON.parse(output.split('\n').find((l) => l.includes('listening'))!) as { url: string })
        .url;
      assert.deepEqual(await (await fetch(`${url}/v`)).json(), { version: 1 });
      await writeFile(
        file,
        'endpoints:\n  - { method: GET, path: /v, flow: [{ id: v, map: { version: 2 } }] }\n',
      );
      child.kill('SIGHUP');
      await waitUntil(() => output.includes('config reloaded'));
      assert.deepEqual(await (await fetch(`${url}/v`)).json(), { version: 2 });
      await writeFile(
        file,
        'endpoints:\n  - { method: GET, path: /v, flow: [{ id: v, map: "{{ steps.nope }}" }] }\n',
      );
      child.kill('SIGHUP');
      await waitUntil(() => output.includes('reload failed'));
      assert.match(output, /unknown step \\"nope\\"/);
      assert.deepEqual(await (await fetch(`${url}/v`)).json(), { version: 2 });
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('--workers 2 runs two gateway processes on one port, and SIGTERM stops both', async () => {
    const file = await writeConfig(`endpoints:
  - { method: GET, path: /pid, flow: [{ id: p, map: { ok: true } }] }
`);
    const child = spawn(process.execPath, [CLI, 'start', file, '--port', '0', '--workers', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
    });
    try {
      await waitUntil(() => output.split('chorus listening on').length === 3, 15_000);
      const urls = output
        .split('\n')
        .filter((l) => l.includes('listening'))
        .map((l) => (JSON.parse(l) as { url: string; pid: number }).url);
      assert.equal(new Set(urls).size, 1, `both workers share one address: ${urls.join(', ')}`);
      const pids = output
        .split('\n')
        .filter((l) => l.includes('listening'))
        .map((l) => (JSON.parse(l) as { pid: number }).pid);
      assert.equal(new Set(pids).size, 2);
      const res = await fetch(`${urls[0]}/pid`);
      assert.deepEqual(await res.json(), { ok: true });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a port in use is a clear error, not a stack trace', async () => {
    const backend = await startBackend((_req, res) => json(res, 200, {}));
    const file = await writeConfig('endpoints: []\n');
    try {
      const { code, stderr } = await run(['start', file, '--port', String(backend.port)]);
      assert.equal(code, 1);
      assert.match(stderr, /cannot listen: the port is in use/);
    } finally {
      await backend.close();
    }
  });
});
