/**
 * Prometheus metrics (prom-client). One registry for the process, served at /metrics. Policies
 * report their events to the PolicyTelemetry they get from their factory context; `policyMetrics`
 * below is the implementation that turns them into metrics (policies never import this file);
 * the server and flow engine add the request and backend-call metrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CacheResult, PolicyTelemetry } from '../contracts/telemetry.ts';

/** The registry /metrics serves. */
export const metricsRegistry = new Registry();

const rateLimitRejections = new Counter({
  name: 'chorus_rate_limit_rejections_total',
  help: 'Requests refused by a rate limit or quota, by endpoint and policy.',
  labelNames: ['endpoint', 'policy'] as const,
  registers: [metricsRegistry],
});

const breakerState = new Gauge({
  name: 'chorus_circuit_breaker_state',
  help: 'Circuit breaker state per service: 0 closed, 1 half-open, 2 open.',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

const upstreamRetries = new Counter({
  name: 'chorus_upstream_retries_total',
  help: 'Retried backend calls, by service and operation.',
  labelNames: ['service', 'operation'] as const,
  registers: [metricsRegistry],
});

const upstreamRejections = new Counter({
  name: 'chorus_upstream_rejections_total',
  help: 'Backend calls refused before reaching the backend, by service and reason (circuit_open, bulkhead_full, retry_budget).',
  labelNames: ['service', 'reason'] as const,
  registers: [metricsRegistry],
});

const authFailures = new Counter({
  name: 'chorus_auth_failures_total',
  help: 'Requests refused by authentication (401) or authorization (403), by endpoint and status.',
  labelNames: ['endpoint', 'status'] as const,
  registers: [metricsRegistry],
});

const BREAKER_STATES = { closed: 0, 'half-open': 1, open: 2 } as const;

/** What policies report, as metrics. Rare events go through prom-client; cache lookups, one per request, through cells. */
export const policyMetrics: PolicyTelemetry = {
  rateLimited(endpoint, policy): void {
    rateLimitRejections.inc({ endpoint, policy });
  },
  cache(cache, result): void {
    let cells = cacheCells.get(cache);
    if (cells === undefined) {
      const cell = (value: CacheResult): CounterCell => cacheLookups.cell({ cache, result: value });
      cells = {
        hit: cell('hit'),
        miss: cell('miss'),
        coalesced: cell('coalesced'),
        error: cell('error'),
        bypass: cell('bypass'),
        stale: cell('stale'),
        revalidated: cell('revalidated'),
      };
      cacheCells.set(cache, cells);
    }
    cells[result].value++;
  },
  breaker(service, state): void {
    breakerState.set({ service }, BREAKER_STATES[state]);
  },
  retry(service, operation): void {
    upstreamRetries.inc({ service, operation });
  },
  upstreamRejected(service, reason): void {
    upstreamRejections.inc({ service, reason });
  },
  authFailed(endpoint, status): void {
    authFailures.inc({ endpoint, status: String(status) });
  },
};

// The request and backend-call metrics are counted in plain objects and handed to the registry only
// when scraped: prom-client's own counters hash their labels on every increment (~1 µs each, measured
// ~50× a plain increment), which the request path cannot afford several times per request.

// Buckets in seconds, from a cached answer (~1 ms) to a slow orchestration (10 s).
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** One label set of a counter. */
interface CounterCell {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/** One label set of a histogram; `buckets[i]` counts values in (bound[i-1], bound[i]], the last is +Inf. */
interface HistogramCell {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
  sum: number;
  readonly buckets: Float64Array;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * A metric whose cells (one per label set) are plain objects the request path updates; the
 * registry reads them at scrape time. A cell is created once per label set: keep it.
 */
abstract class CellMetric<Cell extends { readonly labels: Readonly<Record<string, string>> }> {
  readonly name: string;
  readonly help: string;
  protected readonly cells = new Map<string, Cell>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
    metricsRegistry.registerMetric(this as unknown as Counter);
  }

  /** The cell of a label set (created once; keep it). */
  cell(labels: Record<string, string>): Cell {
    const key = JSON.stringify(labels);
    let found = this.cells.get(key);
    if (found === undefined) {
      found = this.create(labels);
      this.cells.set(key, found);
    }
    return found;
  }

  protected abstract create(labels: Record<string, string>): Cell;
}

/** A counter read at scrape time. */
class CellCounter extends CellMetric<CounterCell> {
  protected create(labels: Record<string, string>): CounterCell {
    return { labels, value: 0 };
  }

  get(): { name: string; help: string; type: 'counter'; aggregator: 'sum'; values: MetricValue[] } {
    const values = [...this.cells.values()].map((cell) => ({
      labels: { ...cell.labels },
      value: cell.value,
    }));
    return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values };
  }

  reset(): void {
    for (const cell of this.cells.values()) cell.value = 0;
  }
}

/** A histogram read at scrape time. */
class CellHistogram extends CellMetric<HistogramCell> {
  protected create(labels: Record<string, string>): HistogramCell {
    return { labels, count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1) };
  }

  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        cumulative += cell.buckets[i]!;
        values.push({
          labels: { ...cell.labels, le: i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf' },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { ...cell.labels }, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...cell.labels }, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  reset(): void {
    for (const cell of this.cells.values()) {
      cell.count = 0;
      cell.sum = 0;
      cell.buckets.fill(0);
    }
  }
}

function observe(cell: HistogramCell, seconds: number): void {
  let i = 0;
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
  cell.buckets[i]!++;
  cell.count++;
  cell.sum += seconds;
}

const requests = new CellCounter(
  'chorus_requests_total',
  'Answered requests, by endpoint (operation id, or the built-in route) and status.',
);
const requestDuration = new CellHistogram(
  'chorus_request_duration_seconds',
  'Time from request accepted to answer sent, by endpoint and status.',
);
let inFlightNow = 0;
new Gauge({
  name: 'chorus_requests_in_flight',
  help: 'Requests being answered now.',
  registers: [metricsRegistry],
  collect() {
    this.set(inFlightNow);
  },
});
const backendCalls = new CellCounter(
  'chorus_backend_calls_total',
  'Backend calls made by flow steps (retries included), by service, operation and outcome (ok, error).',
);
const backendDuration = new CellHistogram(
  'chorus_backend_call_duration_seconds',
  'Duration of backend calls (retries included), by service and operation.',
);
const cacheLookups = new CellCounter(
  'chorus_cache_lookups_total',
  'Cache lookups by cache (endpoint or endpoint.step) and result (hit, miss, coalesced, error, bypass, stale, revalidated).',
);
const cacheCells = new Map<string, Record<CacheResult, CounterCell>>();
const backendErrors = new CellCounter(
  'chorus_backend_errors_total',
  'Failed backend calls, by service, operation and error code.',
);

/** The cells of one endpoint and status. */
interface RequestCells {
  count: CounterCell;
  duration: HistogramCell;
}

// Per endpoint label, the cells by status: a request costs one map lookup and an array index.
const requestCells = new Map<string, (RequestCells | undefined)[]>();

/** The request metrics the server records. */
export const requestMetrics = {
  started(): void {
    inFlightNow++;
  },
  /** A request answered (or abandoned: 499); `seconds` from accept to send. */
  finished(endpoint: string, status: number, seconds: number): void {
    inFlightNow--;
    let byStatus = requestCells.get(endpoint);
    if (byStatus === undefined) {
      byStatus = [];
      requestCells.set(endpoint, byStatus);
    }
    let cells = byStatus[status];
    if (cells === undefined) {
      const labels = { endpoint, status: String(status) };
      cells = { count: requests.cell(labels), duration: requestDuration.cell(labels) };
      byStatus[status] = cells;
    }
    cells.count.value++;
    observe(cells.duration, seconds);
  },
};

/** The metrics of one step's backend calls, with its cells bound once at load. */
export interface BackendCallMetrics {
  /** A call that answered; `seconds` is its duration. */
  ok(seconds: number): void;
  /** A call that failed with the error code `code`. */
  failed(seconds: number, code: string): void;
}

/** Binds the backend-call metrics of a service operation (once per step, at load). */
export function backendCallMetrics(service: string, operation: string): BackendCallMetrics {
  const okCalls = backendCalls.cell({ service, operation, outcome: 'ok' });
  const failedCalls = backendCalls.cell({ service, operation, outcome: 'error' });
  const duration = backendDuration.cell({ service, operation });
  const errorCells = new Map<string, CounterCell>();
  return {
    ok(seconds) {
      okCalls.value++;
      observe(duration, seconds);
    },
    failed(seconds, code) {
      failedCalls.value++;
      observe(duration, seconds);
      let cell = errorCells.get(code);
      if (cell === undefined) {
        cell = backendErrors.cell({ service, operation, code });
        errorCells.set(code, cell);
      }
      cell.value++;
    },
  };
}

let defaultsCollected = false;

/**
 * Adds the Node.js process metrics (event-loop lag `nodejs_eventloop_lag_seconds`, heap, GC, CPU,
 * handles) to the registry; once per process, when a gateway starts serving.
 */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: 10 });
}
