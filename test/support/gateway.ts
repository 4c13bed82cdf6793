/** Starts a real gateway from config text, the way `chorus start` does, on a random port. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { formatIssue } from '../../src/config/issues.ts';
import { compilePlan } from '../../src/gateway.ts';
import { loadConfig } from '../../src/modules.ts';
import { type Gateway, startGateway } from '../../src/server/server.ts';

/** Writes config text to a temporary file and returns its path. */
export async function writeConfig(text: string, name = 'gateway.yaml'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chorus-test-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Loads, compiles and starts a gateway; throws with the config issues when it does not load. */
export async function startTestGateway(configText: string): Promise<Gateway> {
  const file = await writeConfig(configText);
  return startGatewayFromFile(file);
}

/** Loads, compiles and starts the gateway of a config file on a random port. */
export async function startGatewayFromFile(
  file: string,
  env?: Record<string, string | undefined>,
): Promise<Gateway> {
  const loaded = await loadConfig(file, env ? { env } : {});
  if (!loaded.ok) throw new Error(loaded.issues.map(formatIssue).join('\n'));
  const logger = pino({ level: process.env.CHORUS_TEST_LOG ?? 'silent' });
  const compiled = await compilePlan(loaded.loaded, logger);
  if (!compiled.ok) throw new Error(compiled.issues.map(formatIssue).join('\n'));
  return startGateway(compiled.plan, { logger, port: 0, host: '127.0.0.1' });
}
