import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { Connector, ConnectorCall, ConnectorIssue } from '../../contracts/connector.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { createMockConnector } from './mock-connector.ts';
import { mockServiceSchema } from './schema.ts';

const logger = pino({ level: 'silent' });
const callContext = { requestId: 'req-1', logger };
const dir = mkdtempSync(path.join(tmpdir(), 'chorus-mock-'));

async function build(raw: Record<string, unknown>): Promise<Connector | { issues: ConnectorIssue[] }> {
  return createMockConnector(mockServiceSchema.parse({ kind: 'mock', ...raw }), {
    service: 'recs',
    baseDir: dir,
    logger,
  });
}

async function connect(raw: Record<string, unknown>): Promise<Connector> {
  const built = await build(raw);
  if ('issues' in built) assert.fail(`unexpected issues: ${JSON.stringify(built.issues)}`);
  return built;
}

function callOf(operation: string, overrides: Partial<ConnectorCall> = {}): ConnectorCall {
  return {
    operation,
    input: {},
    headers: {},
    signal: new AbortController().signal,
    timeoutMs: 5_000,
    deadlineBound: false,
    ...overrides,
  };
}

function isCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof ChorusError && error.code === code;
}

describe('mock connector', () => {
  test('an answer template reads the call input as request', async () => {
    const connector = await connect({
      operations: {
        forItem: {
          answer: { id: '{{ request.params.id }}', label: 'for {{ request.params.id }}', items: [1, 2] },
        },
      },
    });
    const result = await connector.call(
      callOf('forItem', { input: { params: { id: 'mc-7' } } }),
      callContext,
    );
    assert.deepEqual(result.output, { id: 'mc-7', label: 'for mc-7', items: [1, 2] });
  });

  test('an answer file (YAML or JSON) is read once at load, relative to the config', async () => {
    writeFileSync(path.join(dir, 'answer.yaml'), 'top:\n  - "{{ request.query.q }}"\n');
    writeFileSync(path.join(dir, 'answer.json'), '{"ok": true}');
    const connector = await connect({
      operations: { a: { file: 'answer.yaml' }, b: { file: 'answer.json' } },
    });
    assert.deepEqual(
      (await connector.call(callOf('a', { input: { query: { q: 'x' } } }), callContext)).output,
      {
        top: ['x'],
      },
    );
    assert.deepEqual((await connector.call(callOf('b'), callContext)).output, { ok: true });
  });

  test('latency delays the answer', async () => {
    const connector = await connect({ operations: { slow: { answer: 1, latency: '60ms' } } });
    const started = performance.now();
    await connector.call(callOf('slow'), callContext);
    assert.ok(performance.now() - started >= 55);
  });

  test('a latency past the call time limit fails as a timeout', async () => {
    const connector = await connect({ operations: { slow: { answer: 1, latency: '5s' } } });
    await assert.rejects(
      connector.call(callOf('slow', { timeoutMs: 30 }), callContext),
      isCode('CHORUS_UPSTREAM_TIMEOUT'),
    );
  });

  test('failureRate 1 fails every call as unavailable; 0 never', async () => {
    const connector = await connect({
      operations: { down: { answer: 1, failureRate: 1 }, up: { answer: 1 } },
    });
    await assert.rejects(connector.call(callOf('down'), callContext), isCode('CHORUS_UPSTREAM_UNAVAILABLE'));
    for (let i = 0; i < 20; i++) assert.equal((await connector.call(callOf('up'), callContext)).output, 1);
  });

  test('operations are described for the portal', async () => {
    const connector = await connect({
      operations: {
        forItem: { summary: 'Recommendations', answer: [] },
        rating: {
          answer: { score: 7.5, id: '{{ request.params.id }}', label: 'item {{ request.params.id }}' },
        },
      },
    });
    assert.deepEqual(connector.describe(), [
      {
        name: 'forItem',
        summary: 'Recommendations',
        requiredParams: [],
        idempotent: true,
        mock: true,
        outputSchema: { type: 'array', items: {} },
      },
      {
        name: 'rating',
        requiredParams: [],
        idempotent: true,
        mock: true,
        // The shape of the answer from its literal parts (an expression leaf is any value).
        outputSchema: {
          type: 'object',
          properties: { score: { type: 'number' }, id: {}, label: { type: 'string' } },
          required: ['score', 'id', 'label'],
        },
      },
    ]);
  });

  test('a bad template and a missing file are load issues at their keys', async () => {
    const built = await build({
      operations: {
        a: { answer: { x: '{{ request.( }}' } },
        b: { file: 'nope.json' },
        c: { answer: 1, file: 'x' },
      },
    });
    assert.ok('issues' in built);
    const paths = built.issues.map((issue) => issue.path.join('.'));
    assert.deepEqual(paths, ['operations.a.answer.x', 'operations.b.file', 'operations.c.file']);
  });
});
