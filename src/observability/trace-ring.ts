/**
 * The recent request traces, kept in memory for the portal's waterfall: a span processor that
 * gathers each request's spans and, when the request span ends, stores the trace in a fixed-size
 * ring (the oldest is dropped). Bounded everywhere: traces, spans per trace, events per span.
 */
import { type HrTime, type SpanContext, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

/** One span of a trace, as the portal draws it. */
export interface TraceSpan {
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** Milliseconds from the start of the request. */
  startMs: number;
  durationMs: number;
  status: 'ok' | 'error';
  /** The error's message (its code when the engine set one), when status is error. */
  error?: string;
  attributes: Record<string, unknown>;
  events: { name: string; atMs: number; attributes: Record<string, unknown> }[];
}

/** One request's trace. */
export interface TraceRecord {
  traceId: string;
  requestId: string;
  method: string;
  route: string;
  path: string;
  endpoint: string;
  status: number;
  /** Epoch milliseconds when the request started. */
  startedAt: number;
  durationMs: number;
  /** The request span first, then the others by start time. */
  spans: TraceSpan[];
}

/** A line of the trace list. */
export type TraceSummary = Omit<TraceRecord, 'spans'> & {
  spanCount: number;
  errors: number;
  /** Backend calls made (spans of call steps; a step answered from its cache counts none). */
  calls: number;
  /** Whether the response cache answered the request (a cache.hit event on the request span). */
  cached: boolean;
};

const MAX_SPANS_PER_TRACE = 500;
const MAX_EVENTS_PER_SPAN = 50;
// Traces whose request span has not ended yet; beyond this the oldest are dropped.
const MAX_PENDING_TRACES = 5000;

function hrMs(time: HrTime): number {
  return time[0] * 1000 + time[1] / 1e6;
}

/** A kept request: its spans as the SDK ended them, turned into a TraceRecord only when read. */
interface Kept {
  readonly traceId: string;
  readonly root: ReadableSpan;
  readonly children: ReadableSpan[];
}

/**
 * The in-memory ring of recent request traces; a SpanProcessor of the gateway's tracer. Ending a
 * span only files it (the request path pays a map lookup and a push); the conversion to what the
 * portal reads happens when an admin reads it.
 */
export class TraceRing implements SpanProcessor {
  readonly capacity: number;
  private readonly kept: (Kept | undefined)[];
  private next = 0;
  private readonly byTrace = new Map<string, Kept>();
  private readonly pending = new Map<string, ReadableSpan[]>();

  constructor(capacity: number) {
    this.capacity = capacity;
    this.kept = new Array<Kept | undefined>(capacity);
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const context: SpanContext = span.spanContext();
    const traceId = context.traceId;
    if (span.attributes['chorus.request_id'] !== undefined) {
      const children = this.pending.get(traceId) ?? [];
      this.pending.delete(traceId);
      this.store({ traceId, root: span, children });
      return;
    }
    const stored = this.byTrace.get(traceId);
    if (stored) {
      // A call that ended after its request was answered (cancelled, or its answer came too late).
      if (stored.children.length < MAX_SPANS_PER_TRACE) stored.children.push(span);
      return;
    }
    let list = this.pending.get(traceId);
    if (!list) {
      if (this.pending.size >= MAX_PENDING_TRACES) {
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
      }
      list = [];
      this.pending.set(traceId, list);
    }
    if (list.length < MAX_SPANS_PER_TRACE) list.push(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.pending.clear();
    return Promise.resolve();
  }

  /** The kept traces, newest first, without their spans. */
  list(): TraceSummary[] {
    const out: TraceSummary[] = [];
    for (const entry of this.newestFirst()) {
      const { spans, ...summary } = toRecord(entry.root, entry.children);
      out.push({
        ...summary,
        spanCount: spans.length,
        errors: spans.filter((s) => s.status === 'error').length,
        calls: spans.filter(
          (s) =>
            s.attributes['chorus.service'] !== undefined && !s.events.some((e) => e.name === 'cache.hit'),
        ).length,
        cached: spans[0]?.events.some((e) => e.name === 'cache.hit') ?? false,
      });
    }
    return out;
  }

  /** A kept trace by trace id, or the newest one of a request id. */
  get(id: string): TraceRecord | undefined {
    let found = this.byTrace.get(id);
    if (found === undefined) {
      for (const entry of this.newestFirst()) {
        if (entry.root.attributes['chorus.request_id'] === id) {
          found = entry;
          break;
        }
      }
    }
    return found === undefined ? undefined : toRecord(found.root, found.children);
  }

  private *newestFirst(): Generator<Kept> {
    for (let i = 1; i <= this.capacity; i++) {
      const entry = this.kept[(this.next - i + this.capacity) % this.capacity];
      if (!entry) return;
      yield entry;
    }
  }

  private store(entry: Kept): void {
    const evicted = this.kept[this.next];
    if (evicted) this.byTrace.delete(evicted.traceId);
    this.kept[this.next] = entry;
    this.byTrace.set(entry.traceId, entry);
    this.next = (this.next + 1) % this.capacity;
  }
}

function toRecord(root: ReadableSpan, children: readonly ReadableSpan[]): TraceRecord {
  const startedAt = hrMs(root.startTime);
  const spans = [toTraceSpan(root, startedAt)];
  for (const child of [...children].sort((a, b) => hrMs(a.startTime) - hrMs(b.startTime))) {
    spans.push(toTraceSpan(child, startedAt));
  }
  const attributes = root.attributes;
  return {
    traceId: root.spanContext().traceId,
    requestId: String(attributes['chorus.request_id']),
    method: String(attributes['http.request.method'] ?? ''),
    route: String(attributes['http.route'] ?? ''),
    path: String(attributes['url.path'] ?? ''),
    endpoint: String(attributes['chorus.endpoint'] ?? ''),
    status: Number(attributes['http.response.status_code'] ?? 0),
    startedAt: Math.round(startedAt),
    durationMs: round(hrMs(root.duration)),
    spans,
  };
}

function toTraceSpan(span: ReadableSpan, requestStart: number): TraceSpan {
  const start = hrMs(span.startTime);
  const failed = span.status.code === SpanStatusCode.ERROR;
  const traced: TraceSpan = {
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    startMs: round(start - requestStart),
    durationMs: round(hrMs(span.duration)),
    status: failed ? 'error' : 'ok',
    attributes: { ...span.attributes },
    events: span.events.slice(0, MAX_EVENTS_PER_SPAN).map((event) => ({
      name: event.name,
      atMs: round(hrMs(event.time) - requestStart),
      attributes: { ...event.attributes },
    })),
  };
  if (failed) traced.error = span.status.message ?? 'error';
  return traced;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
