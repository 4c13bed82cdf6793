/**
 * Operating a gateway, against real `chorus start` processes: PORT and HOST from the environment,
 * the effective config (redacted), reloads by POST /admin/reload and by file watch (a bad config
 * keeps the old one serving), ten reloads under steady load without one failed request, trace ids
 * in log lines, and /metrics under --workers 2 counting every request once.
 */
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { type ChorusProcess, freePort, startChorus } from './support/chorus-process.ts';
import { writeConfig } from './support/gateway.ts';

const ADMIN = 'operations-test-admin-token';
const SECRETS = {
  CHORUS_ADMIN_TOKEN: ADMIN,
  BACKEND_TOKEN: 'backend-bearer-secret-0123',
  EXTRA_SECRET: 'header-borne-secret-4567',
};
const auth = { authorization: `Bearer ${ADMIN}` };

/** A config whose /v answers `version`, with a slow endpoint and secrets in several places. */
function configText(backend: TestBackend, version: string): string {
  return `admin: { credential: "\${env.CHORUS_ADMIN_TOKEN}" }
services:
  b:
    kind: http
    url: ${backend.url}
    headers: { x-extra: "\${env.EXTRA_SECRET}" }
    auth: { type: bearer, token: "\${env.BACKEND_TOKEN}" }
    operations: { fast: { path: /fast }, slow: { path: /slow } }
endpoints:
  - method: GET
    path: /v
    flow: [{ id: f, call: b.fast }]
    response: { body: { version: "${version}" } }
  - method: GET
    path: /slow
    flow: [{ id: s, call: b.slow }]
    response: { body: { version: "${version}" } }
`;
}

/** One GET on an agent; resolves to status and body text, or the error code. */
function get(
  url: string,
  agent?: Agent,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: agent ?? false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ status: 0, text: '', error: error.code ?? error.message }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, text: '', error: error.code ?? error.message }),
    );
    req.end();
  });
}

describe('chorus start: listening address from the environment', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
  });
  after(() => backend.close());

  test('PORT and HOST are honoured when no flag is given', async () => {
    const file = await writeConfig(configText(backend, '1'));
    const port = await freePort();
    const chorus = await startChorus([file], { ...SECRETS, PORT: String(port), HOST: '127.0.0.1' });
    try {
      assert.equal(chorus.url, `http://127.0.0.1:${port}`);
      assert.equal((await get(`${chorus.url}/healthz`)).status, 200);
    } finally {
      await chorus.stop();
    }
  });

  test('--port wins over PORT', async () => {
    const file = await writeConfig(configText(backend, '1'));
    const port = await freePort();
    const chorus = await startChorus([file, '--port', String(port)], { ...SECRETS, PORT: '1' });
    try {
      assert.equal(chorus.url, `http://127.0.0.1:${port}`);
    } finally {
      await chorus.stop();
    }
  });

  test('a PORT that is not a port is refused, naming PORT', async () => {
    const file = await writeConfig(configText(backend, '1'));
    await assert.rejects(
      startChorus([file], { ...SECRETS, PORT: 'eighty' }),
      /PORT must be a number from 0 to 65535, got "eighty"/,
    );
  });
});

describe('the admin API: effective config and reload', () => {
  let backend: TestBackend;
  let chorus: ChorusProcess;
  let file: string;
  before(async () => {
    backend = await startBackend((req, res) => json(res, 200, { ok: true }, req.url === '/slow' ? 800 : 5));
    file = await writeConfig(configText(backend, '1'));
    chorus = await startChorus([file, '--port', '0', '--watch'], SECRETS);
  });
  after(async () => {
    await chorus.stop();
    await backend.close();
  });

  test('GET /admin/config answers the effective config with every secret redacted, and 401 without the credential', async () => {
    assert.equal((await get(`${chorus.url}/admin/config`)).status, 401);
    const { status, text } = await get(`${chorus.url}/admin/config`, undefined, auth);
    assert.equal(status, 200);
    const config = JSON.parse(text) as {
      services: { b: { url: string; auth: { type: string; token: string } } };
      endpoints: unknown[];
    };
    assert.equal(config.services.b.url, backend.url);
    assert.equal(config.services.b.auth.type, 'bearer');
    assert.equal(config.services.b.auth.token, '[redacted]');
    assert.equal(config.endpoints.length, 2);
    for (const secret of Object.values(SECRETS))
      assert.ok(!text.includes(secret), `the config shows ${secret}`);
  });

  test('POST /admin/reload answers 422 with file:line:col problems for a bad config, and the old one keeps serving', async () => {
    await writeFile(
      file,
      `${configText(backend, '2')}  - { method: GET, path: /broken, flow: [{ id: x, call: nowhere.get }] }\n`,
    );
    const res = await fetch(`${chorus.url}/admin/reload`, { method: 'POST', headers: auth });
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = (await res.json()) as { code: string; problems: string[] };
    assert.equal(problem.code, 'CHORUS_RELOAD_REJECTED');
    assert.match(problem.problems[0]!, /gateway\.yaml:\d+:\d+ .*nowhere/);
    assert.equal(JSON.parse((await get(`${chorus.url}/v`)).text).version, '1');
    assert.equal((await fetch(`${chorus.url}/admin/reload`, { method: 'POST' })).status, 401);
  });

  test('--watch reloads the config when its file changes', async () => {
    await writeFile(file, configText(backend, 'watched'));
    const deadline = Date.now() + 10_000;
    let version = '';
    while (Date.now() < deadline && version !== 'watched') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      version = JSON.parse((await get(`${chorus.url}/v`)).text).version;
    }
    assert.equal(version, 'watched');
  });

  test('10 reloads under steady load: no failed request, and a request in flight finishes on the plan it started on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const outcomes: { status: number; error?: string }[] = [];
    let loading = true;
    const client = async (): Promise<void> => {
      while (loading) outcomes.push(await get(`${chorus.url}/v`, agent));
    };
    const clients = Array.from({ length: 10 }, client);
    const slow = get(`${chorus.url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      // Atomically, as editors and ConfigMaps do: --watch is on and must never read half a file.
      await writeFile(`${file}.next`, configText(backend, `r${i}`));
      await rename(`${file}.next`, file);
      const res = await fetch(`${chorus.url}/admin/reload`, { method: 'POST', headers: auth });
      assert.equal(res.status, 200, await res.text());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    loading = false;
    await Promise.all(clients);
    agent.destroy();
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.ok(outcomes.length > 100, `only ${outcomes.length} requests`);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} failed`);
    const slowAnswer = await slow;
    assert.equal(
      JSON.parse(slowAnswer.text).version,
      'watched',
      'the in-flight request finished on its own plan',
    );
    assert.equal(JSON.parse((await get(`${chorus.url}/v`)).text).version, 'r9');
    process.stdout.write(
      `# ${outcomes.length} requests over 10 reloads in ${Math.round(performance.now() - started)} ms, 0 failed\n`,
    );
  });
});

describe('the admin API on a listener of its own', () => {
  test('admin.listen serves the admin routes on its own port and takes them off the public one', async () => {
    const backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
    const text = configText(backend, '1').replace(
      'admin: { credential: "${env.CHORUS_ADMIN_TOKEN}" }',
      'admin: { credential: "${env.CHORUS_ADMIN_TOKEN}", listen: { host: 127.0.0.1, port: 0 } }',
    );
    const chorus = await startChorus([await writeConfig(text), '--port', '0'], SECRETS);
    try {
      const listening = await chorus.waitForLine((l) => typeof l.adminUrl === 'string');
      const adminUrl = String(listening.adminUrl);
      assert.notEqual(adminUrl, chorus.url);
      assert.equal((await get(`${chorus.url}/admin/config`, undefined, auth)).status, 404);
      assert.equal((await get(`${adminUrl}/admin/config`, undefined, auth)).status, 200);
      assert.equal((await get(`${adminUrl}/admin/config`)).status, 401);
      assert.equal((await fetch(`${adminUrl}/admin/reload`, { method: 'POST', headers: auth })).status, 200);
      assert.equal((await get(`${adminUrl}/v`)).status, 404, 'no public endpoint on the admin port');
      assert.equal((await get(`${chorus.url}/v`)).status, 200);
    } finally {
      await chorus.stop();
      await backend.close();
    }
  });
});

describe('observability across a process', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend((_req, res) => json(res, 200, { ok: true }));
  });
  after(() => backend.close());

  test('every log line of a traced request carries its trace_id and span_id', async () => {
    const file = await writeConfig(configText(backend, '1'));
    const chorus = await startChorus([file, '--port', '0', '--log-level', 'debug'], SECRETS);
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await get(`${chorus.url}/v`, undefined, {
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'x-request-id': 'traced-1',
      });
      const line = await chorus.waitForLine((l) => l.requestId === 'traced-1' && l.msg === 'request', 5000);
      assert.equal(line.trace_id, traceId);
      assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
      const step = chorus.lines.find((l) => l.requestId === 'traced-1' && l.msg === 'step');
      assert.equal(step?.trace_id, traceId, 'the step line too');
    } finally {
      await chorus.stop();
    }
  });

  test("with --workers 2, /metrics counts every request of every worker once, and /admin/traces lists every worker's traces", async () => {
    const file = await writeConfig(configText(backend, '1'));
    const chorus = await startChorus([file, '--port', String(await freePort()), '--workers', '2'], SECRETS);
    try {
      // Both workers listening: a second "listening" line.
      const deadline = Date.now() + 20_000;
      while (
        chorus.lines.filter((l) => String(l.msg).startsWith('chorus listening')).length < 2 &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // New connections: the primary hands them to the workers in turn.
      const answers = await Promise.all(Array.from({ length: 40 }, () => get(`${chorus.url}/v`)));
      assert.ok(answers.every((a) => a.status === 200));
      const pids = new Set(chorus.lines.filter((l) => l.msg === 'request').map((l) => l.pid));
      assert.equal(pids.size, 2, 'both workers answered requests');
      for (let scrape = 0; scrape < 3; scrape++) {
        const { status, text } = await get(`${chorus.url}/metrics`);
        assert.equal(status, 200);
        const counted = [...text.matchAll(/^chorus_requests_total\{[^}]*endpoint="([^"]+)"[^}]*\} (\d+)/gm)]
          .filter((m) => m[1] !== 'metrics')
          .reduce((sum, m) => sum + Number(m[2]), 0);
        assert.equal(
          counted,
          40,
          text
            .split('\n')
            .filter((l) => l.startsWith('chorus_requests_total'))
            .join('\n'),
        );
      }
      const traces = JSON.parse((await get(`${chorus.url}/admin/traces`, undefined, auth)).text) as {
        traces: { path: string; traceId: string }[];
      };
      assert.equal(traces.traces.filter((t) => t.path === '/v').length, 40);
      const one = await get(`${chorus.url}/admin/traces/${traces.traces[0]!.traceId}`, undefined, auth);
      assert.equal(one.status, 200);
    } finally {
      await chorus.stop();
    }
  });
});
