import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { ConfigPath } from '../../config/issues.ts';
import { configSchema } from '../../modules.ts';
import { policyMetrics } from '../../observability/metrics.ts';
import { createConsumerRegistry } from './registry.ts';

async function registryOf(config: unknown) {
  const issues: { at: ConfigPath; message: string }[] = [];
  const registry = await createConsumerRegistry(configSchema.parse(config), {
    logger: pino({ level: 'silent' }),
    baseDir: '.',
    telemetry: policyMetrics,
    issue: (at, message) => issues.push({ at, message }),
  });
  return { registry, issues };
}

const hash = (digit: string) => `sha256:${digit.repeat(64)}`;

test("a consumer's scopes are its own and its plan's; subjects map to it", async () => {
  const { registry, issues } = await registryOf({
    plans: { pro: { scopes: ['write', 'read'] } },
    consumers: [
      { id: 'acme', plan: 'pro', scopes: ['read', 'admin'], subjects: ['auth0|42'], keys: [hash('a')] },
    ],
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(registry.consumers.get('acme'), {
    id: 'acme',
    plan: 'pro',
    scopes: ['read', 'admin', 'write'],
  });
  assert.equal(registry.bySubject('auth0|42')?.id, 'acme');
  assert.equal(registry.bySubject('acme')?.id, 'acme');
  assert.deepEqual(registry.planScopes('pro'), ['write', 'read']);
  assert.equal(registry.planScopes('gold'), undefined);
  assert.equal(registry.apiKeys.size, 1);
  assert.deepEqual(registry.apiKeySource, { header: 'x-api-key', query: undefined });
});

test('duplicate ids, key ids, subjects and keys are reported where they are', async () => {
  const { issues } = await registryOf({
    consumers: [
      { id: 'a', keys: [{ id: 'k', hash: hash('1') }], subjects: ['s'] },
      { id: 'a' },
      { id: 'b', keys: [{ id: 'k', hash: hash('2') }, hash('1')], subjects: ['s'] },
    ],
  });
  assert.deepEqual(
    issues.map((found) => [found.at.join('.'), found.message]),
    [
      ['consumers.1.id', 'duplicate consumer id "a"'],
      ['consumers.2.subjects', 'subject "s" is also consumer "a"'],
      ['consumers.2.keys.0', 'duplicate key id "k"'],
      ['consumers.2.keys.1', 'this key is also a key of consumer "a"'],
    ],
  );
});
