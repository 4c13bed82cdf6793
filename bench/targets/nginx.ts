/** nginx as a reverse proxy with upstream keep-alive: the native limit for a plain proxy. */
import { GATEWAY_CORE } from '../lib/cores.ts';
import { startNginx, writeNginxConfig } from '../lib/nginx.ts';
import { freePort, waitUntilReady } from '../lib/process.ts';
import { hasCommand } from '../lib/tools.ts';
import type { Target } from './types.ts';

export const nginxTarget: Target = {
  name: 'nginx',
  description: 'nginx reverse proxy, 1 worker, upstream keep-alive (the native limit)',
  unavailable(scenario) {
    if (!hasCommand('nginx')) return 'nginx is not installed (apt-get install nginx)';
    if (!scenario.upstreamPath) return 'plain proxy only: cannot compose calls';
    return undefined;
  },
  async start({ scenario, backends }) {
    const port = await freePort();
    const paths = scenario.pathCycle
      ? Array.from({ length: scenario.pathCycle.count }, (_, i) => `${scenario.pathCycle!.prefix}${i}`)
      : [scenario.path];
    const locations = paths
      .map((path) => `    location = ${path} { proxy_pass http://backend${scenario.upstreamPath}; }`)
      .join('\n');
    // Buffers large enough that a 1 MB answer never goes through a temp file.
    const instance = writeNginxConfig(
      'nginx-proxy',
      `  upstream backend { server ${backends.static.replace('http://', '')}; keepalive 128; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_buffers 64 16k;
  proxy_max_temp_file_size 0;
  server {
    listen 127.0.0.1:${port} backlog=4096;
${locations}
  }`,
    );
    const child = startNginx('nginx-proxy', instance, GATEWAY_CORE);
    const origin = `http://127.0.0.1:${port}`;
    const request = { method: 'GET' as const, path: scenario.path };
    try {
      const startupMs = await waitUntilReady(child, origin, request, 30_000);
      return { origin, request, unwrap: (body) => body, child, startupMs, stop: () => child.stop() };
    } catch (error) {
      await child.stop();
      throw error;
    }
  },
};
