/** Config of observability: the /metrics route, request traces (in-memory ring, OTLP export). */
import { z } from 'zod';
import { routePathSchema, staticHeadersSchema, timeoutMsSchema } from '../config/schema-parts.ts';

const routePath = routePathSchema('/metrics');

/** Prometheus metrics. */
export const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Whether the metrics route is served.'),
    path: routePath.default('/metrics').describe('Where Prometheus scrapes the metrics (text format).'),
  })
  .describe('Prometheus metrics (prom-client).');

/** Export of spans to an OpenTelemetry collector over OTLP/HTTP (JSON). */
export const otlpSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .describe('The OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces.'),
    headers: staticHeadersSchema.optional().describe('Headers sent with every export (e.g. an API key).'),
    timeout: timeoutMsSchema.prefault('10s').describe('Timeout of one export request.'),
  })
  .describe('Export of spans over OTLP/HTTP (off unless set).');

/** Request tracing: spans per request and per backend call. */
export const tracingSchema = z
  .strictObject({
    ring: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(100)
      .describe(
        'How many recent request traces the portal keeps in memory (0: none). Kept only when admin.credential is set, since nobody else may read them.',
      ),
    serviceName: z.string().min(1).default('chorus').describe('service.name of the exported spans.'),
    otlp: otlpSchema.optional(),
  })
  .describe('Request tracing (OpenTelemetry): on when traces are kept for the portal or exported.');

/** The whole observability section. */
export const observabilitySchema = z
  .strictObject({
    metrics: metricsSchema.default(metricsSchema.parse({})),
    tracing: tracingSchema.default(tracingSchema.parse({})),
  })
  .describe('Metrics and tracing.');

export type ObservabilityConfig = z.output<typeof observabilitySchema>;
export type TracingConfig = z.output<typeof tracingSchema>;
