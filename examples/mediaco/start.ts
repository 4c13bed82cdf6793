/**
 * `npm start`: the MediaCo demo providers and the gateway in one process. Prints the URLs and
 * sample requests; Ctrl-C stops everything cleanly.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatIssue } from '../../src/config/issues.ts';
import { loadConfig } from '../../src/config/load.ts';
import { compilePlan } from '../../src/engine/compile.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startGateway } from '../../src/server/server.ts';
import { startDemoBackends, US_MOVIES_TOKEN } from './backends/servers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const logger = createLogger({ level: process.env.CHORUS_LOG_LEVEL ?? 'warn' });

const backends = await startDemoBackends();
const env = {
  ...process.env,
  LOOKUP_URL: backends.urls.lookup,
  US_MOVIES_URL: backends.urls.usMovies,
  RATINGS_URL: backends.urls.ratings,
  US_MOVIES_TOKEN,
};
const loaded = await loadConfig(path.join(here, 'gateway.yaml'), { env });
if (!loaded.ok) {
  for (const issue of loaded.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  await backends.close();
  process.exit(1);
}
// Expressions read env as the gateway process sees it; the demo URLs are config, not secrets.
const compiled = await compilePlan(loaded.loaded, logger);
if (!compiled.ok) {
  for (const issue of compiled.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  await backends.close();
  process.exit(1);
}
let gateway: Awaited<ReturnType<typeof startGateway>>;
try {
  gateway = await startGateway(compiled.plan, { logger });
} catch (error) {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  process.stderr.write(
    `cannot listen: ${inUse ? 'the port is in use; try PORT=8081 npm start' : (error as Error).message}\n`,
  );
  await compiled.plan.close();
  await backends.close();
  process.exit(1);
}

const url = gateway.url;
process.stdout.write(`
MediaCo catalog gateway is up.

  API        ${url}
  OpenAPI    ${url}/openapi.json
  Health     ${url}/healthz

Try:
  curl -s ${url}/catalog/items/mc-0001
  curl -s "${url}/catalog/search?q=night&limit=5"
  curl -s ${url}/catalog/items/bad-id        # 400 problem+json naming the field

Demo providers: lookup ${backends.urls.lookup}, us-movies ${backends.urls.usMovies}, ratings ${backends.urls.ratings}
Press Ctrl-C to stop.
`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping: finishing in-flight requests…\n');
  await gateway.close();
  await backends.close();
  process.stdout.write('Stopped.\n');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
