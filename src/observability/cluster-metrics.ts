/**
 * /metrics across `chorus start --workers N`: every worker counts in its own registry, and
 * whichever worker takes a scrape asks the primary, which gathers every worker's metrics over
 * the cluster IPC channel and sums them (prom-client's AggregatorRegistry: counters and
 * histograms add up; gauges per their aggregator). Without workers, the process's own registry.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { clustered } from './cluster-gather.ts';
import { metricsRegistry } from './metrics.ts';

const REQUEST = 'chorus:metrics-request';
const RESPONSE = 'chorus:metrics-response';
/** prom-client gives every worker 5 s; the primary's answer gets a little more. */
const WAIT_MS = 6000;

interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/** Whether this process is a worker whose primary aggregates metrics. */
const aggregated = clustered;

let shared = false;

/** In a worker: answers the primary's requests for this worker's metrics. Elsewhere: nothing. */
export function shareMetricsWithPrimary(): void {
  if (shared || !aggregated()) return;
  shared = true;
  AggregatorRegistry.setRegistries([metricsRegistry]);
  // Constructing one installs prom-client's worker-side listener.
  new AggregatorRegistry();
}

let nextId = 0;

/** The text /metrics serves: every worker's, summed, when aggregated; else this process's. */
export async function metricsText(): Promise<{ text: string; contentType: string }> {
  const contentType = metricsRegistry.contentType;
  if (!aggregated()) return { text: await metricsRegistry.metrics(), contentType };
  const id = nextId++;
  const text = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer the metrics request'));
    }, WAIT_MS);
    const onMessage = (message: unknown): void => {
      const response = message as Partial<MetricsResponse> | null;
      if (response?.type !== RESPONSE || response.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (typeof response.text === 'string') resolve(response.text);
      else reject(new Error(response.error ?? 'the primary could not gather the metrics'));
    };
    process.on('message', onMessage);
    process.send!({ type: REQUEST, id });
  });
  return { text, contentType };
}

/** In the primary: answers the workers' metrics requests with every worker's metrics, summed. */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: unknown; id?: unknown } | null) => {
    if (message?.type !== REQUEST || typeof message.id !== 'number') return;
    const id = message.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id, text } satisfies MetricsResponse),
      (error: Error) => worker.send({ type: RESPONSE, id, error: error.message } satisfies MetricsResponse),
    );
  });
}
