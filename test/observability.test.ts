/**
 * Observability end to end: /metrics parses as Prometheus text and counts the requests made;
 * spans (in-memory exporter) nest request → backend calls and the backends receive the W3C
 * traceparent of their call's span; the admin trace routes; the access log line.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { formatIssue } from '../src/config/issues.ts';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { type Gateway, startGateway } from '../src/server/server.ts';
import { startBackend, type TestBackend } from './support/backend.ts';
import { writeConfig } from './support/gateway.ts';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A backend: users and orders answer after 40 ms, shipments after 10 ms, /broken with 500. */
function startShopBackend(): Promise<TestBackend> {
  return startBackend(async (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/broken')) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"reason":"down"}');
      return;
    }
    await delay(url.startsWith('/shipments') ? 10 : 40);
    const id = url.split('/')[2] ?? '';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, orderId: `o-${id}`, path: url }));
  });
}

function configText(backend: TestBackend, extra = ''): string {
  return `
services:
  shop:
    kind: http
    url: ${backend.url}
    operations:
      user: { path: "/users/{id}" }
      orders: { path: "/orders/{id}" }
      shipment: { path: "/shipments/{id}" }
      broken: { path: /broken }
endpoints:
  - method: GET
    path: /customers/{id}
    flow:
      - id: user
        call: shop.user
        input: { params: { id: "{{ request.params.id }}" } }
      - id: orders
        call: shop.orders
        input: { params: { id: "{{ request.params.id }}" } }
      - id: shipment
        call: shop.shipment
        input: { params: { id: "{{ steps.orders.orderId }}" } }
    response:
      body: { user: "{{ steps.user.id }}", shipment: "{{ steps.shipment.id }}" }
  - method: GET
    path: /fragile
    flow:
      - { id: broken, call: shop.broken }
  - method: GET
    path: /partial
    flow:
      - { id: broken, call: shop.broken, onError: skip }
      - { id: user, call: shop.user, input: { params: { id: "9" } } }
${extra}`;
}

interface Started {
  gateway: Gateway;
  lines: Record<string, unknown>[];
}

async function start(
  text: string,
  options: { spanProcessors?: SpanProcessor[]; level?: string; env?: Record<string, string> } = {},
): Promise<Started> {
  const file = await writeConfig(text);
  const loaded = await loadConfig(file, options.env ? { env: options.env } : {});
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line.trim() !== '') lines.push(JSON.parse(line));
  });
  const logger = pino({ level: options.level ?? 'info' }, stream);
  const compiled = await compilePlan(loaded.loaded, logger);
  if (!compiled.ok) throw new Error(compiled.issues.map(formatIssue).join('\n'));
  const gateway = await startGateway(compiled.plan, {
    logger,
    port: 0,
    host: '127.0.0.1',
    ...(options.spanProcessors && { spanProcessors: options.spanProcessors }),
  });
  return { gateway, lines };
}

// ---- a strict reader of the Prometheus text exposition format (version 0.0.4) ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parsePrometheus(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [number, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const parts = line.split(' ');
      if (parts[1] === 'TYPE') {
        assert.match(parts[2] ?? '', METRIC_NAME, `line ${number + 1}: metric name`);
        assert.ok(
          ['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(parts[3] ?? ''),
          `line ${number + 1}: type ${parts[3]}`,
        );
        types.set(parts[2]!, parts[3]!);
      } else assert.equal(parts[1], 'HELP', `line ${number + 1}: a comment is HELP or TYPE`);
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    assert.ok(match, `line ${number + 1} is a sample: ${line}`);
    const [, name, labelText, rawValue] = match;
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const label = LABEL.exec(labelText);
        assert.ok(label, `line ${number + 1}: labels ${labelText}`);
        labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    // Go's ParseFloat, which Prometheus uses, reads NaN and Inf in any case (prom-client writes "Nan").
    const value = /^[+-]?inf$/i.test(rawValue!)
      ? rawValue!.startsWith('-')
        ? -Infinity
        : Infinity
      : Number(rawValue);
    assert.ok(/^nan$/i.test(rawValue!) || !Number.isNaN(value), `line ${number + 1}: value ${rawValue}`);
    const family = name!.replace(/_(bucket|sum|count|total|created)$/, '');
    assert.ok(types.has(name!) || types.has(family), `line ${number + 1}: ${name} has a TYPE`);
    samples.push({ name: name!, labels, value });
  }
  return samples;
}

function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
  );
  return found?.value ?? 0;
}

async function scrape(gateway: Gateway): Promise<{ samples: Sample[]; type: string | null; text: string }> {
  const response = await fetch(`${gateway.url}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  return { samples: parsePrometheus(text), type: response.headers.get('content-type'), text };
}

describe('metrics', () => {
  let backend: TestBackend;
  let started: Started;
  before(async () => {
    backend = await startShopBackend();
    started = await start(configText(backend));
  });
  after(async () => {
    await started.gateway.close();
    await backend.close();
  });

  test('/metrics parses as Prometheus text and its counters match the requests made', async () => {
    const { gateway } = started;
    const before = (await scrape(gateway)).samples;
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gateway.url}/customers/${i}`)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${gateway.url}/fragile`)).status, 502);
    assert.equal((await fetch(`${gateway.url}/nowhere`)).status, 404);
    const { samples, type, text } = await scrape(gateway);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    const delta = (name: string, labels: Record<string, string>): number =>
      sampleValue(samples, name, labels) - sampleValue(before, name, labels);

    assert.equal(delta('chorus_requests_total', { endpoint: 'getCustomersById', status: '200' }), 3);
    assert.equal(delta('chorus_requests_total', { endpoint: 'getFragile', status: '502' }), 2);
    assert.equal(delta('chorus_requests_total', { endpoint: 'unmatched', status: '404' }), 1);
    assert.equal(
      delta('chorus_request_duration_seconds_count', { endpoint: 'getCustomersById', status: '200' }),
      3,
    );
    for (const operation of ['user', 'orders', 'shipment']) {
      assert.equal(delta('chorus_backend_calls_total', { service: 'shop', operation, outcome: 'ok' }), 3);
      assert.equal(delta('chorus_backend_call_duration_seconds_count', { service: 'shop', operation }), 3);
    }
    assert.equal(
      delta('chorus_backend_calls_total', { service: 'shop', operation: 'broken', outcome: 'error' }),
      2,
    );
    assert.equal(
      delta('chorus_backend_errors_total', {
        service: 'shop',
        operation: 'broken',
        code: 'CHORUS_UPSTREAM_STATUS',
      }),
      2,
    );
    // Only the scrape itself is in flight while it is answered.
    assert.equal(sampleValue(samples, 'chorus_requests_in_flight', {}), 1);
    assert.ok(
      samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'),
      'event-loop lag',
    );
    // The policies' metrics are in the same registry.
    assert.match(text, /^# TYPE chorus_rate_limit_rejections_total counter$/m);
  });

  test('a backend answer that is slow shows in the latency histogram buckets', async () => {
    const { gateway } = started;
    const before = (await scrape(gateway)).samples;
    assert.equal((await fetch(`${gateway.url}/customers/42`)).status, 200);
    const { samples } = await scrape(gateway);
    const bucket = (le: string): number =>
      sampleValue(samples, 'chorus_backend_call_duration_seconds_bucket', {
        service: 'shop',
        operation: 'user',
        le,
      }) -
      sampleValue(before, 'chorus_backend_call_duration_seconds_bucket', {
        service: 'shop',
        operation: 'user',
        le,
      });
    // The user call takes ~40 ms: not under 10 ms, always under 10 s.
    assert.equal(bucket('0.01'), 0);
    assert.equal(bucket('10'), 1);
  });
});

describe('tracing', () => {
  let backend: TestBackend;
  let started: Started;
  const exporter = new InMemorySpanExporter();
  before(async () => {
    backend = await startShopBackend();
    started = await start(configText(backend), { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  });
  after(async () => {
    await started.gateway.close();
    await backend.close();
  });

  test('a request span parents one client span per backend call, and each backend gets its call span as traceparent', async () => {
    exporter.reset();
    backend.calls.length = 0;
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const response = await fetch(`${started.gateway.url}/customers/7`, {
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    assert.equal(response.status, 200);
    await delay(20);
    const spans = exporter.getFinishedSpans();
    const server = spans.filter((span) => span.kind === SpanKind.SERVER);
    assert.equal(server.length, 1);
    const root = server[0]!;
    assert.equal(root.name, 'GET /customers/{id}');
    assert.equal(root.spanContext().traceId, callerTrace, 'the caller trace continues');
    assert.equal(root.parentSpanContext?.spanId, callerSpan, 'the request span is a child of the caller');
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.attributes['chorus.request_id'], response.headers.get('x-request-id'));

    const calls = spans.filter((span) => span.kind === SpanKind.CLIENT);
    assert.deepEqual(calls.map((span) => span.name).sort(), ['shop.orders', 'shop.shipment', 'shop.user']);
    for (const call of calls) {
      assert.equal(call.spanContext().traceId, callerTrace);
      assert.equal(call.parentSpanContext?.spanId, root.spanContext().spanId);
      assert.equal(call.attributes['chorus.service'], 'shop');
      // The backend received this call's own span as its parent.
      const path =
        call.name === 'shop.user' ? '/users/7' : call.name === 'shop.orders' ? '/orders/7' : '/shipments/o-7';
      const received = backend.calls.find((c) => c.url === path);
      assert.ok(received, `backend got ${path}`);
      assert.equal(received.headers.traceparent, `00-${callerTrace}-${call.spanContext().spanId}-01`);
      assert.equal(received.headers['x-request-id'], response.headers.get('x-request-id'));
    }
    // user and orders ran in parallel; shipment waited for orders.
    const byName = new Map(calls.map((span) => [span.name, span]));
    const ms = (time: [number, number]): number => time[0] * 1000 + time[1] / 1e6;
    const user = byName.get('shop.user')!;
    const orders = byName.get('shop.orders')!;
    const shipment = byName.get('shop.shipment')!;
    assert.ok(ms(user.startTime) < ms(orders.endTime) && ms(orders.startTime) < ms(user.endTime), 'overlap');
    assert.ok(
      ms(shipment.startTime) >= ms(orders.endTime),
      `shipment starts (${ms(shipment.startTime)}) after orders ended (${ms(orders.endTime)})`,
    );
    assert.deepEqual(shipment.attributes['chorus.step.after'], ['orders']);
  });

  test('without an incoming traceparent a new trace starts, sampled', async () => {
    exporter.reset();
    backend.calls.length = 0;
    assert.equal((await fetch(`${started.gateway.url}/customers/8`)).status, 200);
    const root = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
    assert.equal(root.parentSpanContext, undefined);
    const traceparent = String(backend.calls[0]?.headers.traceparent);
    assert.match(traceparent, new RegExp(`^00-${root.spanContext().traceId}-[0-9a-f]{16}-01$`));
  });

  test('a failed backend call is an error span with its code, and the request span says 502', async () => {
    exporter.reset();
    assert.equal((await fetch(`${started.gateway.url}/fragile`)).status, 502);
    const spans = exporter.getFinishedSpans();
    const call = spans.find((span) => span.name === 'shop.broken')!;
    assert.equal(call.status.code, 2 /* ERROR */);
    assert.equal(call.attributes['chorus.error.code'], 'CHORUS_UPSTREAM_STATUS');
    const root = spans.find((span) => span.kind === SpanKind.SERVER)!;
    assert.equal(root.attributes['http.response.status_code'], 502);
    assert.equal(root.status.code, 2);
  });

  test('a caller that does not sample its trace is followed: no span is recorded', async () => {
    exporter.reset();
    const response = await fetch(`${started.gateway.url}/customers/9`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
    });
    assert.equal(response.status, 200);
    assert.equal(exporter.getFinishedSpans().length, 0);
  });
});

describe('OTLP export', () => {
  test('spans are exported to the configured OTLP/HTTP endpoint with its headers, flushed on close', async () => {
    const backend = await startShopBackend();
    const collector = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const { gateway } = await start(
      configText(
        backend,
        `observability:\n  tracing:\n    serviceName: chorus-otlp-test\n    otlp:\n      url: ${collector.url}/v1/traces\n      headers: { x-collector-key: k-123 }\n`,
      ),
    );
    try {
      const response = await fetch(`${gateway.url}/customers/11`);
      assert.equal(response.status, 200);
    } finally {
      await gateway.close();
      await backend.close();
      await collector.close();
    }
    const exports = collector.calls.filter((call) => call.method === 'POST' && call.url === '/v1/traces');
    assert.ok(exports.length >= 1, 'the batch was exported');
    assert.equal(exports[0]!.headers['x-collector-key'], 'k-123');
    const sent = exports.map((call) => call.body).join('\n');
    assert.ok(sent.includes('chorus-otlp-test'), 'service.name');
    for (const name of ['GET /customers/{id}', 'shop.user', 'shop.orders', 'shop.shipment']) {
      assert.ok(sent.includes(name), `span ${name} exported`);
    }
  });
});

describe('without tracing', () => {
  test('no span, no traceparent to backends, and no admin routes', async () => {
    const backend = await startShopBackend();
    const { gateway } = await start(configText(backend));
    try {
      assert.equal((await fetch(`${gateway.url}/customers/1`)).status, 200);
      for (const call of backend.calls) assert.equal(call.headers.traceparent, undefined);
      assert.equal((await fetch(`${gateway.url}/admin/traces`)).status, 404);
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('admin traces and the access log', () => {
  let backend: TestBackend;
  let started: Started;
  before(async () => {
    backend = await startShopBackend();
    started = await start(
      configText(
        backend,
        'admin:\n  credential: ${env.CHORUS_ADMIN_TOKEN}\nobservability:\n  tracing: { ring: 3 }\n',
      ),
      { env: { CHORUS_ADMIN_TOKEN: ADMIN_TOKEN }, level: 'debug' },
    );
  });
  after(async () => {
    await started.gateway.close();
    await backend.close();
  });
  const admin = (path: string, token?: string): Promise<Response> =>
    fetch(
      `${started.gateway.url}/admin${path}`,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );

  test('the trace routes answer 401 with WWW-Authenticate without the right credential', async () => {
    for (const token of [undefined, 'wrong-token-of-the-same-size-000', `${ADMIN_TOKEN}x`]) {
      const response = await admin('/traces', token);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="chorus-admin"');
      assert.equal(((await response.json()) as { code: string }).code, 'CHORUS_UNAUTHORIZED');
    }
  });

  test('a request is kept with its steps: timings, dependencies, failures and skips', async () => {
    const response = await fetch(`${started.gateway.url}/partial`);
    assert.equal(response.status, 200);
    const requestId = response.headers.get('x-request-id')!;
    const list = (await (await admin('/traces', ADMIN_TOKEN)).json()) as {
      capacity: number;
      traces: { requestId: string; status: number; errors: number; spanCount: number }[];
    };
    assert.equal(list.capacity, 3);
    assert.equal(list.traces[0]?.requestId, requestId, 'newest first');
    assert.equal(list.traces[0]?.errors, 1);
    const trace = (await (await admin(`/traces/${requestId}`, ADMIN_TOKEN)).json()) as {
      status: number;
      durationMs: number;
      spans: {
        name: string;
        startMs: number;
        durationMs: number;
        status: string;
        error?: string;
        attributes: Record<string, unknown>;
        events: { name: string }[];
      }[];
    };
    assert.equal(trace.status, 200);
    assert.equal(trace.spans[0]?.name, 'GET /partial');
    assert.ok(trace.spans[0]!.events.some((event) => event.name === 'step.skip'));
    const broken = trace.spans.find((span) => span.attributes['chorus.step'] === 'broken')!;
    assert.equal(broken.status, 'error');
    assert.equal(broken.error, 'CHORUS_UPSTREAM_STATUS');
    const user = trace.spans.find((span) => span.attributes['chorus.step'] === 'user')!;
    assert.equal(user.status, 'ok');
    assert.ok(user.durationMs >= 30 && user.startMs + user.durationMs <= trace.durationMs + 1);
  });

  test('the ring keeps the newest traces only, and an unknown id is 404', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${started.gateway.url}/customers/${i}`);
      ids.push(response.headers.get('x-request-id')!);
    }
    const list = (await (await admin('/traces', ADMIN_TOKEN)).json()) as { traces: { requestId: string }[] };
    assert.deepEqual(
      list.traces.map((t) => t.requestId),
      ids.slice(2).reverse(),
    );
    assert.equal((await admin(`/traces/${ids[0]}`, ADMIN_TOKEN)).status, 404);
  });

  test('one access line per request with id, endpoint, status and duration; steps at debug; no credential logged', async () => {
    const response = await fetch(`${started.gateway.url}/customers/5`, {
      headers: { 'x-request-id': 'log-check-1' },
    });
    assert.equal(response.status, 200);
    await delay(20);
    const access = started.lines.filter((line) => line.msg === 'request' && line.requestId === 'log-check-1');
    assert.equal(access.length, 1);
    assert.equal(access[0]!.endpoint, 'getCustomersById');
    assert.equal(access[0]!.status, 200);
    assert.equal(typeof access[0]!.ms, 'number');
    assert.equal(access[0]!.method, 'GET');
    const steps = started.lines.filter((line) => line.msg === 'step' && line.requestId === 'log-check-1');
    assert.deepEqual(steps.map((line) => line.step).sort(), ['orders', 'shipment', 'user']);
    assert.equal(steps.find((line) => line.step === 'user')?.call, 'shop.user');
    await admin('/traces', ADMIN_TOKEN);
    assert.ok(!JSON.stringify(started.lines).includes(ADMIN_TOKEN));
  });
});

describe('the access line of an authenticated request', () => {
  test('names the consumer, never its key', async () => {
    const backend = await startShopBackend();
    const key = 'acme-key-for-the-access-log-test-0001';
    const { gateway, lines } = await start(
      configText(
        backend,
        `consumers:\n  - id: acme\n    keys: [{ id: acme-main, key: "\${env.ACME_KEY}" }]\npolicies:\n  auth: apiKey\n`,
      ),
      { env: { ACME_KEY: key } },
    );
    try {
      const response = await fetch(`${gateway.url}/customers/3`, {
        headers: { 'x-api-key': key, 'x-request-id': 'consumer-line-1' },
      });
      assert.equal(response.status, 200);
      assert.equal((await fetch(`${gateway.url}/customers/3`)).status, 401);
      await delay(20);
      const access = lines.find((line) => line.msg === 'request' && line.requestId === 'consumer-line-1');
      assert.equal(access?.consumer, 'acme');
      assert.ok(!JSON.stringify(lines).includes(key));
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});

describe('built-in routes from the config', () => {
  test('metrics and the portal can move, metrics can be turned off, and an endpoint on the portal path wins', async () => {
    const backend = await startShopBackend();
    const moved = await start(
      configText(
        backend,
        'observability:\n  metrics: { path: /internal/metrics }\nportal: { path: /docs }\n',
      ),
    );
    const off = await start(
      configText(
        backend,
        `  - method: GET
    path: /portal
    flow: [{ id: mine, map: { mine: true } }]
observability:
  metrics: { enabled: false }
`,
      ),
    );
    try {
      assert.equal((await fetch(`${moved.gateway.url}/internal/metrics`)).status, 200);
      assert.equal((await fetch(`${moved.gateway.url}/metrics`)).status, 404);
      const page = await fetch(`${moved.gateway.url}/docs`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /src="\/docs\/assets\/swagger-ui-bundle.js"/);
      const bundle = await fetch(`${moved.gateway.url}/docs/assets/swagger-ui-bundle.js`);
      assert.equal(bundle.status, 200);
      assert.ok((await bundle.arrayBuffer()).byteLength > 100_000, 'the renderer is served by the gateway');
      assert.equal((await fetch(`${moved.gateway.url}/docs/assets/..%2Fpackage.json`)).status, 404);
      assert.equal((await fetch(`${moved.gateway.url}/docs/flows/nothing.svg`)).status, 404);
      assert.equal((await fetch(`${moved.gateway.url}/portal`)).status, 404);

      assert.equal((await fetch(`${off.gateway.url}/metrics`)).status, 404);
      assert.deepEqual(await (await fetch(`${off.gateway.url}/portal`)).json(), { mine: true });
      assert.equal((await fetch(`${off.gateway.url}/portal/assets/portal.js`)).status, 404);
    } finally {
      await moved.gateway.close();
      await off.gateway.close();
      await backend.close();
    }
  });
});

describe('/openapi.json of a running gateway', () => {
  test('validates as OpenAPI 3.1', async () => {
    const backend = await startShopBackend();
    const { gateway } = await start(configText(backend));
    try {
      const document = await (await fetch(`${gateway.url}/openapi.json`)).json();
      const result = await new Validator().validate(document as Record<string, unknown>);
      assert.deepEqual(result.errors, undefined);
      assert.equal(result.valid, true);
      assert.equal((document as { openapi: string }).openapi, '3.1.0');
    } finally {
      await gateway.close();
      await backend.close();
    }
  });
});
