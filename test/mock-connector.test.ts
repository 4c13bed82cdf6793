/**
 * kind: mock in a whole gateway: a flow switched to a mock service by environment is answered
 * by its templates, and the portal shows the step as calling a mock.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { type Gateway, startGateway } from '../src/server/server.ts';

const MEDIACO = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));
const logger = pino({ level: 'silent' });
const gateways: Gateway[] = [];
after(() => Promise.all(gateways.map((gateway) => gateway.close())));

async function serveMediaco(env: Record<string, string>): Promise<Gateway> {
  const loaded = await loadConfig(MEDIACO, { env: { ...process.env, ...env } });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const compiled = await compilePlan(loaded.loaded, logger);
  assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.issues));
  const gateway = await startGateway(compiled.plan, { logger, port: 0, host: '127.0.0.1' });
  gateways.push(gateway);
  return gateway;
}

test('a flow switched to a mock service by environment shows it in the portal flow diagram', async () => {
  const gateway = await serveMediaco({ RATINGS_TRANSPORT: 'mock', NATS_URL: 'nats://127.0.0.1:1' });
  const response = await fetch(`${gateway.url}/portal/flows/getItem.svg`);
  assert.equal(response.status, 200);
  const svg = await response.text();
  assert.match(svg, /mock · ratings-mock\.get/);
});
