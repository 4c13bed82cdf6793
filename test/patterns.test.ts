/**
 * The recipes of docs/patterns.md, each a config under examples/patterns/, run against their demo
 * backend (examples/patterns/backend.ts, started here): each answers what the page shows, with
 * the backend calls it says.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type PatternsBackend, startPatternsBackend } from '../examples/patterns/backend.ts';
import type { Gateway } from '../src/server/server.ts';
import { startGatewayFromFile } from './support/gateway.ts';

const DIR = fileURLToPath(new URL('../examples/patterns/', import.meta.url));

interface Case {
  path: string;
  status?: number;
  body: unknown;
  calls: number;
  partial?: string;
}

const RECIPES: Record<string, Case[]> = {
  'lookup-then-route': [
    { path: '/items/mc-1', body: { id: 'mc-1', source: 'films', title: 'The Long Night' }, calls: 2 },
    { path: '/items/mc-2', body: { id: 'mc-2', source: 'music', title: 'Night Songs' }, calls: 2 },
  ],
  'fan-out-and-merge': [
    {
      path: '/search?q=night',
      body: {
        items: [
          { title: 'Night Songs', year: 2001, source: 'music' },
          { title: 'Night Train', year: 2004, source: 'films' },
          { title: 'The Long Night', year: 1999, source: 'films' },
        ],
      },
      calls: 2,
    },
  ],
  'pagination-cursor': [{ path: '/flights', body: ['BA1', 'BA2', 'BA3', 'BA4', 'BA5'], calls: 3 }],
  'pagination-link': [{ path: '/repos', body: ['repo-1', 'repo-2', 'repo-3', 'repo-4', 'repo-5'], calls: 3 }],
  'pagination-pages': [
    { path: '/orders', body: { count: 6, ids: ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'] }, calls: 3 },
  ],
  'pagination-graphql': [
    { path: '/shows', body: ['Show 1', 'Show 2', 'Show 3', 'Show 4', 'Show 5'], calls: 3 },
  ],
  'batch-by-key': [{ path: '/users', body: { count: 50, first: 'User 1', last: 'User 50' }, calls: 2 }],
  'enrich-a-list': [
    {
      path: '/orders/enriched',
      body: [
        { id: 'o1', amount: 10, user: 'User 1' },
        { id: 'o2', amount: 20, user: 'User 2' },
      ],
      calls: 2,
    },
  ],
  'conditional-branch': [
    { path: '/items/mc-1?detail=true', body: { id: 'mc-1', title: 'The Long Night', year: 1999 }, calls: 2 },
    { path: '/items/mc-1', body: { id: 'mc-1', provider: 'films' }, calls: 1 },
    {
      path: '/items/mc-9',
      status: 404,
      partial: 'where',
      body: {
        error: 'no such item',
        warnings: [
          {
            step: 'where',
            code: 'CHORUS_UPSTREAM_STATUS',
            message: 'service "demo" operation "locate" answered 404',
          },
        ],
      },
      calls: 1,
    },
  ],
  fallback: [
    { path: '/rates/USD', body: { currency: 'USD', rate: 1.08, live: true }, calls: 1 },
    {
      path: '/rates/GBP',
      partial: 'rate',
      body: {
        currency: 'GBP',
        rate: null,
        live: false,
        warnings: [
          {
            step: 'rate',
            code: 'CHORUS_UPSTREAM_STATUS',
            message: 'service "demo" operation "rate" answered 503',
          },
        ],
      },
      calls: 1,
    },
  ],
  'total-per-group': [
    {
      path: '/fares/totals',
      body: { totals: { EUR: 10.3, USD: 4.34 }, count: { EUR: 2, USD: 2 } },
      calls: 1,
    },
  ],
};

describe('pattern recipes (docs/patterns.md)', () => {
  let backend: PatternsBackend;

  before(async () => {
    backend = await startPatternsBackend();
  });
  after(async () => {
    await backend?.close();
  });

  test('every recipe config under examples/patterns/ has a case here', async () => {
    const configs = (await readdir(DIR))
      .filter((name) => name.endsWith('.yaml'))
      .map((name) => name.slice(0, -5));
    assert.deepEqual(configs.sort(), Object.keys(RECIPES).sort());
  });

  for (const [recipe, cases] of Object.entries(RECIPES)) {
    test(`${recipe}: answers as the page shows, with the calls it says`, async () => {
      const gateway: Gateway = await startGatewayFromFile(`${DIR}${recipe}.yaml`, {
        ...process.env,
        PATTERNS_API: backend.url,
      });
      try {
        for (const expected of cases) {
          const before = backend.calls.length;
          const res = await fetch(`${gateway.url}${expected.path}`);
          assert.equal(res.status, expected.status ?? 200, expected.path);
          assert.equal(res.headers.get('chorus-partial'), expected.partial ?? null, expected.path);
          assert.deepEqual(await res.json(), expected.body, expected.path);
          assert.equal(backend.calls.length - before, expected.calls, `${expected.path}: backend calls`);
        }
      } finally {
        await gateway.close();
      }
    });
  }
});
