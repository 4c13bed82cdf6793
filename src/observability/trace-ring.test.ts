import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { TraceRing } from './trace-ring.ts';

function setup(capacity: number) {
  const ring = new TraceRing(capacity);
  const tracer = new TracerProvider({ spanProcessors: [ring] }).getTracer('test');
  const request = (requestId: string, calls: string[], status = 200) => {
    const root = tracer.startSpan(`GET /x`, {
      kind: SpanKind.SERVER,
      attributes: { 'chorus.request_id': requestId, 'http.request.method': 'GET', 'url.path': '/x' },
    });
    const parent = trace.setSpan(ROOT_CONTEXT, root);
    for (const name of calls) {
      const call = tracer.startSpan(
        name,
        { kind: SpanKind.CLIENT, attributes: { 'chorus.step': name } },
        parent,
      );
      call.addEvent('retry', { attempt: 1 });
      call.end();
    }
    root.setAttribute('http.response.status_code', status);
    root.end();
    return root.spanContext().traceId;
  };
  return { ring, tracer, request };
}

describe('TraceRing', () => {
  test('a request is kept once its span ends, with its calls as children in start order', () => {
    const { ring, request } = setup(5);
    const traceId = request('r1', ['a', 'b']);
    const record = ring.get('r1');
    assert.ok(record);
    assert.equal(record.traceId, traceId);
    assert.equal(record.status, 200);
    assert.deepEqual(
      record.spans.map((span) => span.name),
      ['GET /x', 'a', 'b'],
    );
    assert.equal(record.spans[1]?.parentSpanId, record.spans[0]?.spanId);
    assert.equal(record.spans[1]?.events[0]?.name, 'retry');
    assert.deepEqual(ring.get(traceId), record, 'found by trace id too');
  });

  test('it keeps only the newest `capacity` traces, newest first', () => {
    const { ring, request } = setup(3);
    for (let i = 1; i <= 5; i++) request(`r${i}`, ['a']);
    assert.deepEqual(
      ring.list().map((summary) => summary.requestId),
      ['r5', 'r4', 'r3'],
    );
    assert.equal(ring.get('r1'), undefined);
    assert.equal(ring.list()[0]?.spanCount, 2);
  });

  test('a call that ends after its request is added to the kept trace', () => {
    const { ring, tracer } = setup(2);
    const root = tracer.startSpan('GET /late', { attributes: { 'chorus.request_id': 'late' } });
    const call = tracer.startSpan('slow', {}, trace.setSpan(ROOT_CONTEXT, root));
    root.end();
    assert.equal(ring.get('late')?.spans.length, 1);
    call.end();
    assert.equal(ring.get('late')?.spans.length, 2);
  });

  test('spans of traces whose request never ends are bounded', () => {
    const { ring, tracer } = setup(2);
    for (let i = 0; i < 6000; i++) tracer.startSpan(`orphan ${i}`).end();
    assert.ok((ring as unknown as { pending: Map<string, unknown> }).pending.size <= 5000);
  });

  test('a summary counts backend calls apart from code steps and cached calls, and says when the response cache answered', () => {
    const { ring, tracer } = setup(5);
    const root = tracer.startSpan('GET /x', {
      kind: SpanKind.SERVER,
      attributes: { 'chorus.request_id': 'r-sum', 'http.request.method': 'GET', 'url.path': '/x' },
    });
    const parent = trace.setSpan(ROOT_CONTEXT, root);
    const step = (name: string, attributes: Record<string, string>, cached = false) => {
      const span = tracer.startSpan(name, { attributes: { 'chorus.step': name, ...attributes } }, parent);
      if (cached) span.addEvent('cache.hit', { 'chorus.cache': 'steps' });
      span.end();
    };
    step('called', { 'chorus.service': 'shop', 'chorus.operation': 'user' });
    step('fromCache', { 'chorus.service': 'shop', 'chorus.operation': 'orders' }, true);
    step('code', { 'chorus.step.kind': 'code' });
    root.end();
    const [summary] = ring.list();
    assert.equal(summary?.calls, 1);
    assert.equal(summary?.cached, false);

    const hit = tracer.startSpan('GET /x', {
      kind: SpanKind.SERVER,
      attributes: { 'chorus.request_id': 'r-hit', 'http.request.method': 'GET', 'url.path': '/x' },
    });
    hit.addEvent('cache.hit', { 'chorus.cache': 'response' });
    hit.end();
    assert.deepEqual(
      ring.list().map((each) => [each.requestId, each.cached, each.calls]),
      [
        ['r-hit', true, 0],
        ['r-sum', false, 1],
      ],
    );
  });
});
