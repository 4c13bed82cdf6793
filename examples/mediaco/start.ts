/**
 * `npm start`: the MediaCo demo providers and the gateway in one process. Ratings go over NATS
 * when a NATS server answers at NATS_URL (default nats://127.0.0.1:4222), else over HTTP. Prints
 * the URLs and sample requests; Ctrl-C stops everything cleanly.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyRuntimeFlags } from '../../src/cli/runtime-flags.ts';
import { formatIssue } from '../../src/config/issues.ts';
import { compilePlan } from '../../src/gateway.ts';
import { loadConfig } from '../../src/modules.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startGateway } from '../../src/server/server.ts';
import { startDemoBackends } from './backends/servers.ts';

// Bounds the V8 young generation as `chorus start` does (docs/performance.md, "Memory").
applyRuntimeFlags();

const here = path.dirname(fileURLToPath(import.meta.url));
const logger = createLogger({ level: process.env.CHORUS_LOG_LEVEL ?? 'warn' });

const backends = await startDemoBackends();
// The gateway finds the demo providers through these variables (see gateway.yaml).
const env = { ...process.env, ...backends.gatewayEnv() };
const loaded = await loadConfig(path.join(here, 'gateway.yaml'), { env });
if (!loaded.ok) {
  for (const issue of loaded.issues) process.stderr.write(`${formatIssue(issue)}\n`);
  await backends.close();
  process.exit(1);
}
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
// The NATS connection is made in the background: wait (a few seconds at most) until the gateway
// is ready, so the first request already gets its rating.
if (backends.ratingsTransport === 'nats') await waitUntilReady(url, 5_000);
const ratings =
  backends.ratingsTransport === 'nats'
    ? `ratings over NATS (${backends.natsUrl})`
    : `ratings over HTTP (no NATS server at ${process.env.NATS_URL ?? 'nats://127.0.0.1:4222'}; start one to use NATS)`;
// The demo consumers' keys (gateway.yaml stores only their SHA-256): published demo keys.
const PRO_KEY = 'mediaco-demo-pro-key';
const FREE_KEY = 'mediaco-demo-free-key';
const key = `-H 'x-api-key: ${PRO_KEY}'`;
const review = `-H 'content-type: application/json' -d '{"score":9,"author":"Sam","text":"A classic."}'`;
process.stdout.write(`
MediaCo catalog gateway is up.

  API        ${url}
  Portal     ${url}/portal
  OpenAPI    ${url}/openapi.json
  Health     ${url}/healthz

Demo API keys (x-api-key header): ${PRO_KEY} (pro plan, 600 requests/min),
  ${FREE_KEY} (free plan, 30 requests/min).
Portal traces: enter the admin token ${process.env.CHORUS_ADMIN_TOKEN ? '(from CHORUS_ADMIN_TOKEN)' : 'mediaco-demo-admin-token'} under Request traces in the portal.

Try:
  curl -s ${key} ${url}/catalog/items/mc-0001     # a film: us-movies, REST/JSON
  curl -s ${key} ${url}/catalog/items/mc-0101     # an album: nordic-music, SOAP
  curl -s ${key} ${url}/catalog/items/mc-0201     # a series: anime-tv, GraphQL
  curl -s ${key} ${url}/catalog/items/mc-0301     # a programme: uk-archive, XML
  curl -s ${key} "${url}/catalog/search?q=night&limit=5"
  curl -s ${key} ${url}/catalog/items/mc-0001/related
  curl -s ${key} -X POST ${url}/catalog/items/mc-0001/reviews ${review}
  curl -s ${key} ${url}/catalog/items/bad-id      # 400 problem+json naming the field
  curl -s ${url}/catalog/items/mc-0001            # 401 problem+json: no API key

Demo providers: lookup ${backends.urls.lookup}, us-movies ${backends.urls['us-movies']},
  nordic-music ${backends.urls['nordic-music']}, anime-tv ${backends.urls['anime-tv']},
  uk-archive ${backends.urls['uk-archive']}; ${ratings}.
Press Ctrl-C to stop.
`);

async function waitUntilReady(base: string, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const res = await fetch(`${base}/readyz`).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.stderr.write('the gateway is not ready yet (NATS); ratings may be missing at first\n');
}

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
