/**
 * Asking every worker of `chorus start --workers N` something, from whichever worker took the
 * request: the worker asks the primary over the cluster IPC channel, the primary asks every
 * worker (the asker too), gathers their answers (a worker that does not answer within a second
 * is left out) and sends them back. The admin routes use it so /admin/traces sees every
 * worker's traces. (Metrics use prom-client's own protocol: cluster-metrics.ts.)
 */
import cluster from 'node:cluster';

/** Set by the primary in its workers' environment: the primary relays gathers and metrics. */
export const CLUSTERED_ENV = 'CHORUS_CLUSTERED';

const ASK = 'chorus:gather-ask';
const COLLECT = 'chorus:gather-collect';
const PART = 'chorus:gather-part';
const ANSWER = 'chorus:gather-answer';
/** How long the primary waits for each worker's part. */
const PART_WAIT_MS = 1000;

interface Message {
  type?: unknown;
  id?: unknown;
  topic?: unknown;
  query?: unknown;
  parts?: unknown;
  part?: unknown;
}

/** Whether this process is a worker of a Chorus primary. */
export function clustered(): boolean {
  return cluster.isWorker && process.env[CLUSTERED_ENV] === '1' && typeof process.send === 'function';
}

const answerers = new Map<string, (query: unknown) => unknown>();
let listening = false;

/** In a worker: answers the primary's gathers of a topic (the latest answerer of a topic wins). */
export function answerGathers(topic: string, answer: (query: unknown) => unknown): void {
  if (!clustered()) return;
  answerers.set(topic, answer);
  if (listening) return;
  listening = true;
  process.on('message', (message: Message | null) => {
    if (message?.type !== COLLECT || typeof message.topic !== 'string') return;
    const answerer = answerers.get(message.topic);
    let part: unknown = null;
    try {
      part = answerer === undefined ? null : answerer(message.query);
    } catch {
      part = null;
    }
    process.send!({ type: PART, id: message.id, part });
  });
}

let nextId = 0;

/** In a worker: every worker's answer to a query (this one's included); rejects after 3 s. */
export function gatherFromWorkers(topic: string, query: unknown): Promise<unknown[]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer'));
    }, 3 * PART_WAIT_MS);
    const onMessage = (message: Message | null): void => {
      if (message?.type !== ANSWER || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(Array.isArray(message.parts) ? message.parts : []);
    };
    process.on('message', onMessage);
    process.send!({ type: ASK, id, topic, query });
  });
}

/** In the primary: relays the workers' gathers to every worker and their parts back. */
export function relayGathers(): void {
  let nextCollect = 0;
  const pending = new Map<number, { parts: unknown[]; waiting: number; done: () => void }>();
  cluster.on('message', (worker, message: Message | null) => {
    if (message?.type === PART && typeof message.id === 'number') {
      const gather = pending.get(message.id);
      if (gather === undefined) return;
      if (message.part !== null) gather.parts.push(message.part);
      if (--gather.waiting === 0) gather.done();
      return;
    }
    if (message?.type !== ASK) return;
    const collectId = nextCollect++;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
    const parts: unknown[] = [];
    const done = (): void => {
      clearTimeout(timer);
      pending.delete(collectId);
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, parts });
    };
    const timer = setTimeout(done, PART_WAIT_MS);
    pending.set(collectId, { parts, waiting: workers.length, done });
    for (const each of workers)
      each?.send({ type: COLLECT, id: collectId, topic: message.topic, query: message.query });
    if (workers.length === 0) done();
  });
}
