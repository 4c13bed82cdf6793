/**
 * A backend call in its own client span, for the calls a step makes itself (a repeating step's
 * rounds, a batch step's batches): the span is a child of the context's span, and the backend
 * gets it as its W3C traceparent.
 */
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { ConnectorResult } from '../contracts/connector.ts';
import { ChorusError, type ErrorCode } from '../errors/catalogue.ts';
import { spanTime } from '../observability/span-clock.ts';
import type { ServiceCall } from './call-step.ts';
import type { FlowContext } from './plan.ts';

/** Runs one call in a span named `name` (only called when tracing is on: ctx.tracer is set). */
export async function callInSpan(
  call: ServiceCall,
  input: Record<string, unknown>,
  ctx: FlowContext,
  name: string,
  attributes: Attributes,
): Promise<ConnectorResult> {
  const span = ctx.tracer!.startSpan(
    name,
    { kind: SpanKind.CLIENT, attributes, startTime: spanTime() },
    ctx.span === undefined ? undefined : trace.setSpan(ROOT_CONTEXT, ctx.span),
  );
  return runInSpan(span, ctx, 'CHORUS_INTERNAL', (traced) => call(input, traced));
}

/**
 * Runs `run` with the context's span set to `span` and the backend's W3C traceparent taken from
 * it, then ends the span; a failure marks it with its catalogue code (`otherCode` for an error from
 * outside the catalogue). Used for a flow's call and code steps and for the calls a step makes itself.
 */
export async function runInSpan<T>(
  span: Span,
  ctx: FlowContext,
  otherCode: ErrorCode,
  run: (traced: FlowContext) => Promise<T> | T,
): Promise<T> {
  const context = span.spanContext();
  const traced: FlowContext = {
    ...ctx,
    span,
    propagate: {
      ...ctx.propagate,
      traceparent: `00-${context.traceId}-${context.spanId}-0${context.traceFlags & 1}`,
    },
  };
  try {
    const result = await run(traced);
    span.end(spanTime());
    return result;
  } catch (error) {
    const code = error instanceof ChorusError ? error.code : otherCode;
    span.setAttribute('chorus.error.code', code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    span.end(spanTime());
    throw error;
  }
}
