/**
 * Request tracing: an OpenTelemetry SDK tracer provider built once per gateway when traces are
 * kept (the portal's ring) or exported (OTLP). The engine sees only @opentelemetry/api (a Tracer
 * and Spans); this module and tracing-sdk.ts are the only places that know the SDK,
 * which is imported only when a gateway traces (it is ~15 MB resident and ~130 ms of start). When neither the ring nor an
 * exporter is on, there is no tracer and the request path creates no span at all.
 */
import type { Span, Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ObservabilityConfig } from './schema.ts';
import type { TraceRing } from './trace-ring.ts';

/** The tracing of a running gateway. */
export interface Tracing {
  readonly tracer: Tracer;
  /** The recent traces the portal shows, when kept. */
  readonly ring: TraceRing | undefined;
  /** Starts the span of an inbound request, as a child of the caller's traceparent if it sent one. */
  startRequestSpan(request: RequestSpanFacts): Span;
  /** Ends a request span with its status. */
  endRequestSpan(span: Span, status: number, code: string | undefined): void;
  /** Exports what is buffered and stops the exporters. */
  close(): Promise<void>;
}

/** What the request span records. */
export interface RequestSpanFacts {
  requestId: string;
  method: string;
  /** The route template, e.g. /items/{id}. */
  route: string;
  path: string;
  endpoint: string;
  traceparent: string | string[] | undefined;
  tracestate: string | string[] | undefined;
}

/** Options of createTracing that do not come from the config (tests add an in-memory exporter). */
export interface TracingOptions {
  spanProcessors?: readonly SpanProcessor[];
}

/** The parts of the config tracing reads. */
export interface TracingSettings {
  readonly observability: ObservabilityConfig;
  /** The admin credential: request traces are kept only when someone can read them. */
  readonly admin: { readonly credential?: string | undefined };
}

/** Builds the tracing of a gateway, or undefined when no trace is kept nor exported. */
export async function createTracing(
  config: TracingSettings,
  options: TracingOptions = {},
): Promise<Tracing | undefined> {
  const settings = config.observability.tracing;
  const keepsRing = config.admin.credential !== undefined && settings.ring > 0;
  if (!keepsRing && !settings.otlp && (options.spanProcessors ?? []).length === 0) return undefined;
  const { createSdkTracing } = await import('./tracing-sdk.ts');
  return createSdkTracing(settings, keepsRing, options);
}
