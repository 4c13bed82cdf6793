/**
 * Several replicas, one truth: three real `chorus start` processes behind a real nginx, sharing
 * the machine's Redis. A global limit of 100 admits exactly 100 of 300 concurrent requests
 * whichever replica takes them; a cache entry stored through one replica is served by the others;
 * a rolling restart (SIGTERM one replica, wait for its exit, start it again, then the next) under
 * steady load ends with no failed client request.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { json, startBackend, type TestBackend } from './support/backend.ts';
import { REDIS_URL, requireBroker } from './support/brokers.ts';
import { type ChorusProcess, freePort, startChorus } from './support/chorus-process.ts';
import { writeConfig } from './support/gateway.ts';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

async function requireNginx(): Promise<string | false> {
  try {
    await access(NGINX);
    return false;
  } catch {
    const reason = `no nginx at ${NGINX} (apt-get install nginx-light, or set NGINX_BIN)`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so these tests cannot be skipped`);
    console.warn(`SKIP replica tests: ${reason}`);
    return reason;
  }
}

const skip = (await requireBroker('redis', REDIS_URL)) || (await requireNginx());

function configText(backend: TestBackend, prefix: string): string {
  return `server: { drainDelay: 1s, shutdownGrace: 5s, trustedProxies: [127.0.0.1] }
# A generous command timeout: on a loaded machine a late reply would fail the call after Redis
# counted it, and nginx's retry (503) would count it again (docs/deploy.md).
stores: { redis: { url: "${REDIS_URL}", keyPrefix: "${prefix}", commandTimeout: 2s } }
services:
  b:
    kind: http
    url: ${backend.url}
    operations: { fast: { path: /fast }, item: { path: "/item/{id}" } }
endpoints:
  - method: GET
    path: /limited
    policies: { rateLimit: { limit: 100, window: 1m, key: ip, store: redis, onStoreError: closed } }
    flow: [{ id: f, call: b.fast }]
  - method: GET
    path: /items/{id}
    policies: { cache: { ttl: 1m, key: request.params.id, store: redis } }
    flow: [{ id: i, call: b.item, input: { params: { id: "{{ request.params.id }}" } } }]
  - method: GET
    path: /steady
    flow: [{ id: f, call: b.fast }]
`;
}

/** nginx in front of the replicas, as deploy/compose/nginx.conf, with its files in a temp dir. */
interface Nginx {
  url: string;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

async function startNginx(ports: readonly number[]): Promise<Nginx> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chorus-nginx-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name}_temp_path ${dir}/${name};`)
    .join('\n  ');
  await writeFile(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  ${temp}
  upstream chorus {
${ports.map((p) => `    server 127.0.0.1:${p} max_fails=3 fail_timeout=1s;`).join('\n')}
    keepalive 32;
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://chorus;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_503;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while ((await get(`${url}/healthz`)).status !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    // What nginx saw (upstream errors, retries): the end of its error log, for a failure's message.
    errorLog: async () =>
      (await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n'),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  error?: string | undefined;
}

function get(url: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ status: 0, headers: {}, error: error.code }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, headers: {}, error: error.code }));
    req.end();
  });
}

describe('three replicas behind nginx, sharing Redis', { skip, timeout: 120_000 }, () => {
  let backend: TestBackend;
  let itemCalls = 0;
  let file: string;
  let ports: number[];
  const replicas: ChorusProcess[] = [];
  let lb: Nginx;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/item/')) itemCalls++;
      json(res, 200, { ok: true, url: req.url }, 10);
    });
    file = await writeConfig(configText(backend, `chorus-replicas-${randomUUID()}:`));
    ports = [await freePort(), await freePort(), await freePort()];
    replicas.push(...(await Promise.all(ports.map((port) => startChorus([file, '--port', String(port)])))));
    lb = await startNginx(ports);
  });

  after(async () => {
    await lb?.stop();
    await Promise.all(replicas.map((replica) => replica.stop()));
    await backend?.close();
  });

  test('a global limit of 100 admits exactly 100 of 300 concurrent requests, spread over every replica', async () => {
    const answers = await Promise.all(Array.from({ length: 300 }, () => get(`${lb.url}/limited`)));
    const statuses = answers.reduce<Record<number, number>>((count, a) => {
      count[a.status] = (count[a.status] ?? 0) + 1;
      return count;
    }, {});
    assert.deepEqual(statuses, { 200: 100, 429: 200 }, await lb.errorLog());
    for (const replica of replicas) {
      assert.ok(
        replica.lines.some((l) => l.msg === 'request' && l.path === '/limited'),
        `replica ${replica.url} took some`,
      );
    }
  });

  test('a cache entry stored through one replica is served by the others', async () => {
    const first = await get(`${replicas[0]!.url}/items/42`);
    assert.equal(first.headers['x-cache'], 'MISS');
    for (const replica of replicas.slice(1)) {
      const answer = await get(`${replica.url}/items/42`);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['x-cache'], 'HIT', replica.url);
    }
    assert.equal(itemCalls, 1);
  });

  test('a rolling restart under steady load: no failed client request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const failures: Answer[] = [];
    let count = 0;
    let loading = true;
    const client = async (): Promise<void> => {
      while (loading) {
        const answer = await get(`${lb.url}/steady`, agent);
        count++;
        if (answer.status !== 200) failures.push(answer);
      }
    };
    const started = performance.now();
    const clients = Array.from({ length: 10 }, client);
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let i = 0; i < replicas.length; i++) {
        assert.equal(await replicas[i]!.stop(), 0, 'the replica drained and exited cleanly');
        replicas[i] = await startChorus([file, '--port', String(ports[i])]);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      loading = false;
      await Promise.all(clients);
      agent.destroy();
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `# rolling restart of 3 replicas: ${count} requests in ${seconds.toFixed(1)} s, ${failures.length} failed\n`,
    );
    assert.ok(count > 200, `only ${count} requests`);
    assert.deepEqual(failures, [], await lb.errorLog());
  });
});
