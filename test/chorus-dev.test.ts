/**
 * `chorus dev` as a user runs it: serving, a save reloads the config, a save with a problem
 * prints it at file:line:col while the previous config keeps serving.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/chorus.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'chorus-dev-'));
const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const config = (greeting: string, operation = 'hello'): string => `services:
  greeter:
    kind: mock
    operations:
      hello: { answer: { greeting: "${greeting} {{ request.params.name }}" } }
endpoints:
  - id: hello
    method: GET
    path: /hello/{name}
    flow:
      - id: hi
        call: greeter.${operation}
        input: { params: { name: "{{ request.params.name }}" } }
    response:
      body: "{{ steps.hi }}"
`;

async function until<T>(what: string, read: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('chorus dev reloads on save and shows a broken save at file:line:col while still serving', async () => {
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, config('hello'));
  const child = spawn(process.execPath, [CLI, 'dev', file, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await until('serving', () => /on (http:\/\/\S+)/.exec(stdout)?.[1]);
  assert.match(stdout, /portal: http:\/\/\S+\/portal {2}\(admin token for traces: \S+\)/);
  const greeting = async (): Promise<string> =>
    ((await (await fetch(`${url}/hello/ann`)).json()) as { greeting: string }).greeting;
  assert.equal(await greeting(), 'hello ann');

  writeFileSync(file, config('hi'));
  await until('the reload', async () => ((await greeting()) === 'hi ann' ? true : undefined));

  writeFileSync(file, config('hey', 'nope'));
  await until('the problem', () => (/has no operation "nope"/.test(stderr) ? true : undefined));
  assert.match(stderr, /gateway\.yaml:12:15 service "greeter" has no operation "nope" \(operations: hello\)/);
  assert.match(stderr, /still serving the previous config/);
  assert.equal(await greeting(), 'hi ann');
  assert.match(stdout, /INFO {2}request .*path=\/hello\/ann .*status=200/);
});
