/**
 * Request tracing: an OpenTelemetry SDK tracer provider built once per gateway when traces are
 * kept (the portal's ring) or exported (OTLP). The engine sees only @opentelemetry/api (a Tracer
 * and Spans); this module is the one place that knows the SDK. When neither the ring nor an
 * exporter is on, there is no tracer and the request path creates no span at all.
 */
import {
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { ObservabilityConfig } from './schema.ts';
import { spanTime } from './span-clock.ts';
import { TraceRing } from './trace-ring.ts';

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

const propagator = new W3CTraceContextPropagator();

/** Builds the tracing of a gateway, or undefined when no trace is kept nor exported. */
/** The parts of the config tracing reads. */
export interface TracingSettings {
  readonly observability: ObservabilityConfig;
  /** The admin credential: request traces are kept only when someone can read them. */
  readonly admin: { readonly credential?: string | undefined };
}

export function createTracing(config: TracingSettings, options: TracingOptions = {}): Tracing | undefined {
  const settings = config.observability.tracing;
  const ring =
    config.admin.credential !== undefined && settings.ring > 0 ? new TraceRing(settings.ring) : undefined;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (ring) processors.push(ring);
  if (settings.otlp) {
    const exporter = new OTLPTraceExporter({
      url: settings.otlp.url,
      headers: { ...settings.otlp.headers },
      timeoutMillis: settings.otlp.timeout,
    });
    processors.push(new BatchSpanProcessor({ exporter }));
  }
  if (processors.length === 0) return undefined;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    // A caller that decided not to sample its trace is followed; otherwise every request is traced.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer('chorus');
  return {
    tracer,
    ring,
    startRequestSpan(facts) {
      let parent: Context = ROOT_CONTEXT;
      if (facts.traceparent !== undefined) {
        parent = propagator.extract(
          ROOT_CONTEXT,
          { traceparent: facts.traceparent, tracestate: facts.tracestate },
          defaultTextMapGetter,
        );
      }
      return tracer.startSpan(
        `${facts.method} ${facts.route}`,
        {
          kind: SpanKind.SERVER,
          startTime: spanTime(),
          attributes: {
            'http.request.method': facts.method,
            'http.route': facts.route,
            'url.path': facts.path,
            'chorus.request_id': facts.requestId,
            'chorus.endpoint': facts.endpoint,
          },
        },
        parent,
      );
    },
    endRequestSpan(span, status, code) {
      span.setAttribute('http.response.status_code', status);
      if (code !== undefined) span.setAttribute('chorus.error.code', code);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: code ?? String(status) });
      span.end(spanTime());
    },
    close: () => provider.shutdown(),
  };
}
