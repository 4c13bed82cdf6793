/**
 * The OpenTelemetry SDK side of request tracing (see tracing.ts): the tracer provider, its span
 * processors (the portal's ring, an OTLP exporter) and the request span. Imported by createTracing
 * only when a gateway keeps or exports traces.
 */
import {
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
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
import type { Tracing, TracingOptions } from './tracing.ts';

const propagator = new W3CTraceContextPropagator();

/** The tracer provider and the request spans of a gateway that traces. */
export function createSdkTracing(
  settings: ObservabilityConfig['tracing'],
  keepsRing: boolean,
  options: TracingOptions,
): Tracing | undefined {
  const ring = keepsRing ? new TraceRing(settings.ring) : undefined;
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
