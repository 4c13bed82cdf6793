/**
 * SIGTERM under keep-alive load, as an operator and its clients see it: a real `chorus start`
 * process, 30 keep-alive clients each in a loop against a 300 ms backend, SIGTERM in the middle.
 * No client may see a reset or a request that is never answered: readiness turns 503 at once,
 * requests are still served during server.drainDelay, every answer after SIGTERM carries
 * connection: close, in-flight requests finish, and only new connections are refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { json, startBackend } from './support/backend.ts';
import { writeConfig } from './support/gateway.ts';

const CLI = fileURLToPath(new URL('../bin/chorus.js', import.meta.url));

interface Outcome {
  startedAt: number;
  endedAt: number;
  status?: number;
  connection?: string | undefined;
  code?: string;
  error?: string;
}

/** One GET on a keep-alive agent; never rejects. */
function get(agent: Agent, url: string): Promise<Outcome> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode === 200 ? undefined : (JSON.parse(text) as { code?: string }).code;
        resolve({
          startedAt,
          endedAt: performance.now(),
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          ...(code === undefined ? {} : { code }),
        });
      });
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ startedAt, endedAt: performance.now(), error: error.code ?? error.message }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ startedAt, endedAt: performance.now(), error: error.code ?? error.message }),
    );
    req.end();
  });
}

/** What a load run saw. */
interface LoadRun {
  outcomes: Outcome[];
  signalledAt: number;
  exitCode: number;
  stderr: string;
  readyStatus: number | undefined;
  /** A request on a new connection 100 ms after SIGTERM. */
  servedDuringDelay: Outcome;
}

/**
 * Starts `chorus start` over a 300 ms backend, runs 30 keep-alive clients in a loop (each until
 * the listener refuses it), sends SIGTERM after 700 ms and waits for the exit.
 */
async function loadThenSigterm(serverSection: string, balancer: boolean): Promise<LoadRun> {
  const backend = await startBackend((_req, res) => json(res, 200, { ok: true }, 300));
  const file = await writeConfig(`server: ${serverSection}
services:
  b: { kind: http, url: ${backend.url}, operations: { get: { path: /x } } }
endpoints:
  - { method: GET, path: /slow, flow: [{ id: s, call: b.get }] }
`);
  const child = spawn(process.execPath, [CLI, 'start', file, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Listened for from the start: on a loaded machine the child may exit before the test gets to wait.
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 30 });
  const probeAgent = new Agent();
  let probe: NodeJS.Timeout | undefined;
  try {
    const url = await listeningUrl(child);
    const outcomes: Outcome[] = [];
    // With a load balancer in front: it probes readiness every 100 ms and, after two failures,
    // sends no new requests (the ones under way finish). Without one, the clients keep going.
    // Either way a client stops when its connection is refused (the listener has stopped).
    let removed = false;
    let failures = 0;
    probe = setInterval(() => {
      void get(probeAgent, `${url}/readyz`).then((o) => {
        failures = o.status === 200 ? 0 : failures + 1;
        if (failures >= 2 && balancer) removed = true;
      });
    }, 100);
    const client = async (): Promise<void> => {
      const until = performance.now() + 4000;
      while (performance.now() < until && !removed) {
        const outcome = await get(agent, `${url}/slow`);
        outcomes.push(outcome);
        if (outcome.error !== undefined) return;
      }
    };
    const clients = Array.from({ length: 30 }, client);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const signalledAt = performance.now();
    child.kill('SIGTERM');
    // Once the signal is delivered (a few ms), readiness is 503 while the listener still accepts.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ready = await get(new Agent(), `${url}/readyz`);
    const servedDuringDelay = await get(new Agent(), `${url}/slow`);
    const [[exitCode]] = await Promise.all([exited, Promise.all(clients)]);
    return {
      outcomes,
      signalledAt,
      exitCode: exitCode ?? -1,
      stderr,
      readyStatus: ready.status,
      servedDuringDelay,
    };
  } finally {
    clearInterval(probe);
    agent.destroy();
    probeAgent.destroy();
    child.kill('SIGKILL');
    await backend.close();
  }
}

/** Checks a run: no reset, nothing unanswered, connection: close on every answer after SIGTERM. */
function checkRun(run: LoadRun, name: string): Outcome[] {
  const { outcomes, signalledAt } = run;
  assert.equal(run.exitCode, 0, run.stderr);
  const answered = outcomes.filter((o) => o.status !== undefined);
  const refused = outcomes.filter((o) => o.error === 'ECONNREFUSED');
  const failed = outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED');
  // Answers that left before the child took the signal do not count. It takes a few ms when the
  // machine is quiet and 100 ms or more when it is loaded, so the moment is read from the answers
  // themselves: the first one told to close (every answer sent after it must be too).
  const closes = answered.filter((o) => o.connection === 'close' && o.endedAt > signalledAt);
  assert.ok(closes.length > 0, 'some answer after SIGTERM carries connection: close');
  const handledAt = Math.min(...closes.map((o) => o.endedAt));
  assert.ok(
    handledAt - signalledAt < 2000,
    `SIGTERM handled ${Math.round(handledAt - signalledAt)} ms after it was sent`,
  );
  const afterSignal = answered.filter((o) => o.endedAt >= handledAt);
  console.log(
    `${name}: ${outcomes.length} requests, ${answered.length} answered (${afterSignal.length} after SIGTERM), ` +
      `${refused.length} refused at connect, ${failed.length} reset or unanswered ${JSON.stringify(failed.map((o) => o.error))}`,
  );
  assert.deepEqual(
    failed.map((o) => o.error),
    [],
    'no client sees a reset or an unanswered request',
  );
  assert.ok(answered.length >= 60, `enough load: ${answered.length} answered`);
  const inFlight = outcomes.filter((o) => o.startedAt < signalledAt && o.endedAt > signalledAt);
  assert.ok(inFlight.length > 0, 'requests were in flight at SIGTERM');
  assert.ok(
    inFlight.every((o) => o.status === 200),
    'the requests in flight at SIGTERM were answered 200',
  );
  for (const o of afterSignal) {
    // An answer sent just before on another connection may arrive a moment after the first close.
    if (o.endedAt <= handledAt + 20) continue;
    assert.equal(o.connection, 'close', 'every answer after SIGTERM carries connection: close');
    assert.ok(o.status === 200 || o.code === 'CHORUS_SHUTTING_DOWN', `status ${o.status} ${o.code}`);
  }
  return afterSignal;
}

test('SIGTERM under keep-alive load with drainDelay 400ms: readiness 503 at once, requests served during the delay, 0 resets, 0 unanswered', async () => {
  const run = await loadThenSigterm('{ drainDelay: 400ms, shutdownGrace: 5s }', true);
  const afterSignal = checkRun(run, 'drainDelay 400ms');
  assert.equal(run.readyStatus, 503);
  // A new connection during the delay is accepted and served normally, and told to close.
  assert.equal(run.servedDuringDelay.status, 200);
  assert.equal(run.servedDuringDelay.connection, 'close');
  assert.ok(afterSignal.length > 0);
});

test('SIGTERM under keep-alive load with the default drainDelay (0), clients that keep going until refused: 0 resets, 0 unanswered', async () => {
  checkRun(await loadThenSigterm('{ shutdownGrace: 5s }', false), 'drainDelay 0');
});

/** The URL the child prints when it listens; its output keeps being read (and dropped) after. */
function listeningUrl(child: ReturnType<typeof spawn>): Promise<string> {
  let buffer = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      buffer += String(chunk);
      const line = buffer.split('\n').find((l) => l.includes('chorus listening on'));
      if (line === undefined) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve((JSON.parse(line) as { url: string }).url);
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => reject(new Error(`the gateway did not start:\n${buffer}`)));
  });
}
