/**
 * Active health checks: every `interval`, a GET of `path` on each host; a host that fails (no
 * 2xx within `timeout`) is marked unhealthy and left out until a probe succeeds. Timers are
 * unref'd and stopped with the connector.
 */
import type { Dispatcher } from 'undici';
import type { Host } from './balancer.ts';
import type { HealthCheckConfig } from './schema.ts';

/** Starts the probes; returns the function that stops them. */
export function startHealthChecks(
  hosts: readonly Host<Dispatcher>[],
  basePath: string,
  config: HealthCheckConfig,
): () => void {
  const intervalMs = config.interval;
  const timeoutMs = config.timeout;
  const path = basePath + config.path;
  let stopped = false;
  const probe = async (host: Host<Dispatcher>): Promise<void> => {
    try {
      const response = await host.client.request({
        path,
        method: 'GET',
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      if (!stopped) host.healthy = response.statusCode >= 200 && response.statusCode < 300;
    } catch {
      if (!stopped) host.healthy = false;
    }
  };
  const timer = setInterval(() => {
    for (const host of hosts) void probe(host);
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
