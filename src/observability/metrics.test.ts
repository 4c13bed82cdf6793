import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendCallMetrics, metricsRegistry, policyMetrics, requestMetrics } from './metrics.ts';

async function lines(prefix: string): Promise<string[]> {
  return (await metricsRegistry.metrics()).split('\n').filter((line) => line.startsWith(prefix));
}

test('request durations land in cumulative buckets whose bound is inclusive, with sum and count', async () => {
  requestMetrics.started();
  requestMetrics.finished('unitTestEndpoint', 201, 0.01);
  requestMetrics.started();
  requestMetrics.finished('unitTestEndpoint', 201, 0.3);
  const out = await lines('chorus_request_duration_seconds');
  const labels = 'endpoint="unitTestEndpoint",status="201"';
  assert.ok(out.includes(`chorus_request_duration_seconds_bucket{${labels},le="0.005"} 0`));
  assert.ok(out.includes(`chorus_request_duration_seconds_bucket{${labels},le="0.01"} 1`));
  assert.ok(out.includes(`chorus_request_duration_seconds_bucket{${labels},le="0.25"} 1`));
  assert.ok(out.includes(`chorus_request_duration_seconds_bucket{${labels},le="0.5"} 2`));
  assert.ok(out.includes(`chorus_request_duration_seconds_bucket{${labels},le="+Inf"} 2`));
  assert.ok(out.includes(`chorus_request_duration_seconds_count{${labels}} 2`));
  assert.ok(out.some((line) => line.startsWith(`chorus_request_duration_seconds_sum{${labels}} 0.31`)));
  assert.ok((await lines('chorus_requests_total')).includes(`chorus_requests_total{${labels}} 2`));
});

test('backend calls count by outcome and failures by code; two steps on one operation share the counts', async () => {
  const first = backendCallMetrics('unitSvc', 'op');
  const second = backendCallMetrics('unitSvc', 'op');
  first.ok(0.002);
  second.failed(0.004, 'CHORUS_UPSTREAM_TIMEOUT');
  second.failed(0.004, 'CHORUS_UPSTREAM_TIMEOUT');
  const calls = await lines('chorus_backend_calls_total{service="unitSvc"');
  assert.deepEqual(calls.sort(), [
    'chorus_backend_calls_total{service="unitSvc",operation="op",outcome="error"} 2',
    'chorus_backend_calls_total{service="unitSvc",operation="op",outcome="ok"} 1',
  ]);
  assert.deepEqual(await lines('chorus_backend_errors_total{service="unitSvc"'), [
    'chorus_backend_errors_total{service="unitSvc",operation="op",code="CHORUS_UPSTREAM_TIMEOUT"} 2',
  ]);
});

test('the policies record into the same registry', async () => {
  policyMetrics.rateLimited('unitTestEndpoint', 'quota');
  assert.ok(
    (await lines('chorus_rate_limit_rejections_total')).includes(
      'chorus_rate_limit_rejections_total{endpoint="unitTestEndpoint",policy="quota"} 1',
    ),
  );
});
