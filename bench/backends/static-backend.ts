/**
 * The static JSON backend: nginx serving files from disk (page cache + sendfile), pinned to the
 * load core. Cheap per request, so most of the load core is left to the load generator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOAD_CORE } from '../lib/cores.ts';
import { startNginx, writeNginxConfig } from '../lib/nginx.ts';
import { type Child, freePort, waitUntilReady } from '../lib/process.ts';

/** A running backend and its base URL. */
export interface RunningBackend {
  url: string;
  child: Child;
}

/** Starts nginx serving `files` (URL path → body) as application/json. */
export async function startStaticBackend(files: Record<string, string>): Promise<RunningBackend> {
  const port = await freePort();
  const instance = writeNginxConfig(
    'static-backend',
    `  open_file_cache max=50000 inactive=300s;
  open_file_cache_valid 300s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root www;
    location / { try_files $uri =404; }
  }`,
  );
  const www = path.join(instance.dir, 'www');
  // A file of its own to probe readiness with, whatever the scenario serves (possibly nothing).
  for (const [urlPath, body] of Object.entries({ ...files, '/healthz': '{"ok":true}' })) {
    const file = path.join(www, urlPath);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  const child = startNginx('static-backend', instance, LOAD_CORE);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(child, url, { method: 'GET', path: '/healthz' }, 10_000);
  return { url, child };
}
