/**
 * The module list is the one source of the connector kinds: the config schema accepts exactly
 * those kinds, and the docs' kind table lists exactly those, with their capabilities.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONNECTORS, configSchema } from '../src/modules.ts';

const KIND_TABLE = new URL('../docs/connectors/README.md', import.meta.url);

/** The kind table docs/connectors/README.md must hold, rendered from the module list. */
function connectorKindTable(): string {
  const yes = (flag: boolean): string => (flag ? 'yes' : '–');
  const rows = CONNECTORS.map(
    (module) =>
      `| [\`${module.kind}\`](${module.kind}.md) | ${module.summary} | ${yes(module.capabilities.http)} | ${yes(module.capabilities.standingConnection)} | ${yes(module.capabilities.rawPassthrough)} |`,
  );
  return [
    '| kind | what it speaks | HTTP transport (urls, balancing, TLS, health checks) | standing connection (readiness) | forwards answers undecoded |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

test('docs/connectors/README.md lists every connector kind of the module list, with its capabilities', () => {
  const page = readFileSync(KIND_TABLE, 'utf8');
  const expected = connectorKindTable();
  assert.ok(page.includes(expected), `docs/connectors/README.md should contain this table:\n\n${expected}\n`);
});

test('the config accepts a service of every kind in the module list and no other', () => {
  for (const module of CONNECTORS) {
    const result = configSchema.safeParse({ services: { svc: { kind: module.kind } } });
    const kindIssues = result.success
      ? []
      : result.error.issues.filter((issue) => issue.path.join('.') === 'services.svc.kind');
    assert.deepEqual(kindIssues, [], `kind ${module.kind} is refused`);
  }
  const unknown = configSchema.safeParse({ services: { svc: { kind: 'carrier-pigeon' } } });
  assert.equal(unknown.success, false);
});
