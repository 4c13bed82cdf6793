/**
 * The MediaCo reference deployment end to end: the demo providers (REST, SOAP, GraphQL, XML,
 * NATS or HTTP ratings) and the gateway of examples/mediaco/gateway.yaml, on ephemeral ports,
 * asked through the public API only.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DemoBackends, startDemoBackends } from '../examples/mediaco/backends/servers.ts';
import type { Gateway } from '../src/server/server.ts';
import { NATS_URL, requireBroker, sparePort } from './support/brokers.ts';
import { startGatewayFromFile } from './support/gateway.ts';

const CONFIG = fileURLToPath(new URL('../examples/mediaco/gateway.yaml', import.meta.url));
/** The demo keys of gateway.yaml's consumers (published demo keys, not secrets). */
const PRO_KEY = 'mediaco-demo-pro-key';
const FREE_KEY = 'mediaco-demo-free-key';

interface Mediaco {
  backends: DemoBackends;
  gateway: Gateway;
  get(
    pathAndQuery: string,
    key?: string | null,
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  post(
    pathAndQuery: string,
    body: unknown,
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The demo providers and the MediaCo gateway; ratings over NATS (nats: url) or HTTP (nats: false). */
async function startMediaco(nats: string | false): Promise<Mediaco> {
  const backends = await startDemoBackends({ nats });
  let gateway: Gateway;
  try {
    gateway = await startGatewayFromFile(path.resolve(CONFIG), { ...process.env, ...backends.gatewayEnv() });
  } catch (error) {
    await backends.close();
    throw error;
  }
  if (backends.ratingsTransport === 'nats') {
    // The NATS connection is made in the background: wait until the gateway says it is ready.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${gateway.url}/readyz`);
      await res.arrayBuffer();
      if (res.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const read = async (res: Response) => ({
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  });
  return {
    backends,
    gateway,
    get: async (p, key = PRO_KEY) =>
      read(await fetch(`${gateway.url}${p}`, { headers: key === null ? {} : { 'x-api-key': key } })),
    post: async (p, body) =>
      read(
        await fetch(`${gateway.url}${p}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': PRO_KEY },
          body: JSON.stringify(body),
        }),
      ),
    close: async () => {
      await gateway.close();
      await backends.close();
    },
  };
}

interface Item {
  id: string;
  type: string;
  title: string;
  year: number;
  genres: string[];
  creator: string;
  durationMinutes: number | null;
  summary: string;
  details: Record<string, unknown>;
  rating: { id: string; score: number; votes: number } | null;
  source: string;
}

interface Hit {
  id: string;
  type: string;
  title: string;
  year: number;
  source: string;
}

describe('MediaCo: the public catalog API (ratings over HTTP)', () => {
  let mc: Mediaco;
  before(async () => {
    mc = await startMediaco(false);
  });
  after(() => mc.close());

  test('ratings use the HTTP responder when NATS is not used', () => {
    assert.equal(mc.backends.ratingsTransport, 'http');
  });

  test('the demo falls back to HTTP ratings when no NATS server answers', async () => {
    const backends = await startDemoBackends({ nats: `nats://127.0.0.1:${await sparePort()}` });
    try {
      assert.equal(backends.ratingsTransport, 'http');
      assert.equal(backends.gatewayEnv().RATINGS_TRANSPORT, 'http');
    } finally {
      await backends.close();
    }
  });

  test('a film from us-movies (REST/JSON, bearer token) comes back normalized, with its rating', async () => {
    const { status, headers, body } = await mc.get('/catalog/items/mc-0001');
    assert.equal(status, 200);
    assert.equal(headers.get('chorus-partial'), null);
    const item = body as unknown as Item;
    assert.equal(item.id, 'mc-0001');
    assert.equal(item.type, 'movie');
    assert.equal(item.title, 'The Long Night');
    assert.deepEqual(item.genres, ['drama', 'thriller']);
    assert.equal(item.source, 'us-movies');
    assert.equal(typeof item.durationMinutes, 'number');
    assert.equal(item.rating?.id, 'mc-0001');
    assert.equal(typeof item.rating?.score, 'number');
  });

  test('an album from nordic-music (SOAP) comes back in the same shape, with its tracks', async () => {
    const { status, body } = await mc.get('/catalog/items/mc-0101');
    assert.equal(status, 200);
    const item = body as unknown as Item;
    assert.equal(item.type, 'album');
    assert.equal(item.source, 'nordic-music');
    assert.equal(typeof item.title, 'string');
    assert.equal(typeof item.year, 'number');
    const tracks = item.details.tracks as { number: number; seconds: number }[];
    assert.ok(tracks.length >= 6);
    assert.equal(tracks[0]!.number, 1);
    const minutes = Math.round(tracks.reduce((sum, t) => sum + t.seconds, 0) / 60);
    assert.equal(item.durationMinutes, minutes);
    assert.equal(typeof item.rating?.score, 'number');
  });

  test('a series from anime-tv (GraphQL) comes back normalized, genres in the catalog words', async () => {
    const { status, body } = await mc.get('/catalog/items/mc-0201');
    assert.equal(status, 200);
    const item = body as unknown as Item;
    assert.equal(item.type, 'series');
    assert.equal(item.source, 'anime-tv');
    assert.ok(item.genres.length === 2 && item.genres.every((g) => /^[a-z-]+$/.test(g)), item.genres.join());
    assert.equal(typeof item.details.episodes, 'number');
  });

  test('a programme from uk-archive (plain XML) comes back normalized', async () => {
    const { status, body } = await mc.get('/catalog/items/mc-0301');
    assert.equal(status, 200);
    const item = body as unknown as Item;
    assert.equal(item.type, 'programme');
    assert.equal(item.source, 'uk-archive');
    assert.ok(item.year >= 1950 && item.year < 1990);
    assert.equal(typeof item.durationMinutes, 'number');
    assert.match(item.details.broadcast as string, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(['radio', 'television'].includes(item.details.medium as string));
  });

  test('an unknown item is a 404 problem, a malformed id a 400 naming the field', async () => {
    const unknown = await mc.get('/catalog/items/mc-9999');
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(unknown.body.code, 'MEDIACO_ITEM_NOT_FOUND');
    const bad = await mc.get('/catalog/items/bad-id');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'CHORUS_VALIDATION_FAILED');
    assert.equal((bad.body.errors as { field: string }[])[0]!.field, 'params.id');
  });

  test('search asks every provider at once and merges their hits with catalog ids', async () => {
    const { status, headers, body } = await mc.get('/catalog/search?q=night&limit=50');
    assert.equal(status, 200);
    assert.equal(headers.get('chorus-partial'), null);
    const items = body.items as Hit[];
    assert.equal(body.total, items.length);
    assert.deepEqual(
      new Set(items.map((i) => i.source)),
      new Set(['us-movies', 'nordic-music', 'anime-tv', 'uk-archive']),
    );
    for (const item of items) {
      assert.match(item.id, /^mc-\d{4}$/);
      assert.match(item.title, /night/i);
      // Its rating, from the one batch call to ratings for the whole page.
      assert.equal(typeof (item as Hit & { rating: { score: number } }).rating.score, 'number');
    }
    // Every hit is a real item: its id answers the same title.
    const sample = items[items.length - 1]!;
    assert.equal((await mc.get(`/catalog/items/${sample.id}`)).body.title, sample.title);
  });

  test('search ranks titles that start with the text before titles that merely contain it', async () => {
    const { body } = await mc.get('/catalog/search?q=night&limit=50');
    const items = body.items as Hit[];
    const starts = items.map((i) => i.title.toLowerCase().startsWith('night'));
    const firstOther = starts.indexOf(false);
    assert.ok(firstOther > 0, 'some titles start with the text');
    assert.ok(
      starts.slice(firstOther).every((s) => !s),
      'prefix matches all come first',
    );
  });

  test('search pages with limit and nextCursor, without gaps or repeats', async () => {
    const all = (await mc.get('/catalog/search?q=night&limit=50')).body;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/catalog/search?q=night&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await mc.get(query)).body;
      assert.equal(page.total, all.total);
      seen.push(...(page.items as Hit[]).map((i) => i.id));
      cursor = page.nextCursor as string | null;
    } while (cursor !== null && seen.length < 200);
    assert.deepEqual(
      seen,
      (all.items as Hit[]).map((i) => i.id),
    );
  });

  test('search filters by type, answers an empty page when nothing matches, and refuses a cursor it did not give', async () => {
    const albums = await mc.get('/catalog/search?q=night&type=album');
    assert.equal(albums.status, 200);
    const items = albums.body.items as Hit[];
    assert.ok(items.length > 0 && items.every((i) => i.type === 'album' && i.source === 'nordic-music'));
    const bad = await mc.get('/catalog/search?q=night&cursor=bm9wZQ');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'MEDIACO_INVALID_CURSOR');
    const none = await mc.get(`/catalog/search?q=${encodeURIComponent("O'Brien & <x>")}`);
    assert.equal(none.status, 200);
    assert.equal(none.headers.get('chorus-partial'), null);
    assert.deepEqual(none.body, { query: "O'Brien & <x>", total: 0, items: [], nextCursor: null });
    const missing = await mc.get('/catalog/search');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'CHORUS_VALIDATION_FAILED');
  });

  test('related items come from several providers, in the index order, each with its catalog id', async () => {
    const { status, body } = await mc.get('/catalog/items/mc-0001/related');
    assert.equal(status, 200);
    assert.equal(body.id, 'mc-0001');
    const items = body.items as Hit[];
    assert.equal(items.length, 6);
    assert.ok(new Set(items.map((i) => i.source)).size >= 2);
    for (const item of items.slice(0, 2)) {
      const full = (await mc.get(`/catalog/items/${item.id}`)).body;
      assert.equal(full.title, item.title);
      assert.equal(full.source, item.source);
    }
    const unknown = await mc.get('/catalog/items/mc-9999/related');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'MEDIACO_ITEM_NOT_FOUND');
  });

  test('an item is answered from the cache the second time', async () => {
    const first = await mc.get('/catalog/items/mc-0004');
    const second = await mc.get('/catalog/items/mc-0004', FREE_KEY);
    assert.equal(first.headers.get('x-cache'), 'MISS');
    assert.equal(second.headers.get('x-cache'), 'HIT');
    assert.deepEqual(second.body, first.body);
  });

  test('a review is written to ratings and drops the cached item, which then shows the new rating', async () => {
    await mc.get('/catalog/items/mc-0002');
    const before = await mc.get('/catalog/items/mc-0002');
    assert.equal(before.headers.get('x-cache'), 'HIT');
    const posted = await mc.post('/catalog/items/mc-0002/reviews', {
      score: 10,
      author: 'Ann',
      text: 'Superb.',
    });
    assert.equal(posted.status, 201);
    assert.equal(posted.headers.get('location'), '/catalog/items/mc-0002');
    const rating = posted.body.rating as { votes: number; score: number };
    assert.equal(rating.votes, (before.body as unknown as Item).rating!.votes + 1);
    assert.equal((posted.body.review as { text: string }).text, 'Superb.');
    const after = await mc.get('/catalog/items/mc-0002');
    assert.equal(after.headers.get('x-cache'), 'MISS');
    assert.deepEqual((after.body as unknown as Item).rating, { id: 'mc-0002', ...rating });
  });

  test('a review is checked before it is sent: bad score 400, unknown item 404', async () => {
    const bad = await mc.post('/catalog/items/mc-0002/reviews', { score: 11 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'CHORUS_VALIDATION_FAILED');
    const unknown = await mc.post('/catalog/items/mc-9999/reviews', { score: 5 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'MEDIACO_ITEM_NOT_FOUND');
  });

  test('a call without an API key, or with a wrong one, is a 401 problem', async () => {
    const none = await mc.get('/catalog/items/mc-0001', null);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'CHORUS_UNAUTHORIZED');
    const wrong = await mc.get('/catalog/search?q=night', 'not-a-mediaco-key-at-all');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'CHORUS_UNAUTHORIZED');
  });

  test('the portal documents every public endpoint', async () => {
    const res = await fetch(`${mc.gateway.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      info: { title: string };
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.info.title, 'MediaCo Catalog API');
    assert.ok(doc.paths['/catalog/items/{id}']?.get);
    assert.ok(doc.paths['/catalog/search']?.get);
    assert.ok(doc.paths['/catalog/items/{id}/related']?.get);
    assert.ok(doc.paths['/catalog/items/{id}/reviews']?.post);
    const portal = await fetch(`${mc.gateway.url}/portal`);
    assert.equal(portal.status, 200);
    await portal.arrayBuffer();
  });
});

describe('MediaCo: plans', () => {
  let mc: Mediaco;
  before(async () => {
    mc = await startMediaco(false);
  });
  after(() => mc.close());

  test('the free plan allows 30 requests a minute; the 31st is a 429 problem, the pro plan goes on', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await mc.get('/catalog/items/mc-0005/related', FREE_KEY)).status);
    assert.deepEqual(statuses, new Array(30).fill(200));
    const limited = await mc.get('/catalog/items/mc-0005/related', FREE_KEY);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'CHORUS_RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await mc.get('/catalog/items/mc-0005/related', PRO_KEY)).status, 200);
  });
});

describe('MediaCo: providers going down', () => {
  let mc: Mediaco;
  before(async () => {
    mc = await startMediaco(false);
  });
  after(() => mc.close());

  test('with ratings down an item is still answered, without its rating, marked partial', async () => {
    await mc.backends.stop('ratings');
    const { status, headers, body } = await mc.get('/catalog/items/mc-0003');
    assert.equal(status, 200);
    assert.equal(headers.get('chorus-partial'), 'rating');
    assert.equal(body.rating, null);
    assert.equal(body.title, 'Echoes of Tomorrow');
    assert.equal((body.warnings as { step: string }[])[0]!.step, 'rating');
  });

  test('with a provider stopped mid-test, search still answers from the others, flagged partial', async () => {
    const before = await mc.get('/catalog/search?q=night&limit=50');
    assert.ok((before.body.items as Hit[]).some((i) => i.source === 'anime-tv'));
    await mc.backends.stop('anime-tv');
    const { status, headers, body } = await mc.get('/catalog/search?q=night&limit=50');
    assert.equal(status, 200);
    // ratings was stopped by the test before: the hits come without ratings, also marked.
    assert.equal(headers.get('chorus-partial'), 'series,ratings');
    const items = body.items as (Hit & { rating: unknown })[];
    assert.ok(items.length > 0);
    assert.ok(items.every((i) => i.source !== 'anime-tv' && i.rating === null));
    const warnings = body.warnings as { step: string; code: string }[];
    const series = warnings.filter((w) => w.step === 'series');
    assert.equal(series.length, 1);
    assert.equal(series[0]!.code, 'CHORUS_UPSTREAM_TRANSPORT');
    // One warning per hit left without its rating (the one batch call failed for all of them).
    assert.equal(warnings.filter((w) => w.step === 'ratings').length, items.length);
  });

  test('an item whose provider is down is a 502 problem naming the provider', async () => {
    await mc.backends.stop('anime-tv');
    const { status, headers, body } = await mc.get('/catalog/items/mc-0201');
    assert.equal(status, 502);
    assert.match(headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(body.code, 'CHORUS_UPSTREAM_TRANSPORT');
    assert.equal(body.service, 'anime-tv');
    // Items of the other providers still answer.
    assert.equal((await mc.get('/catalog/items/mc-0101')).status, 200);
  });

  test('a provider that keeps failing trips its circuit breaker: a fast 503 problem naming it', async () => {
    await mc.backends.stop('anime-tv');
    let last = await mc.get('/catalog/items/mc-0203');
    for (let i = 0; i < 6 && last.status !== 503; i++) last = await mc.get('/catalog/items/mc-0203');
    assert.equal(last.status, 503);
    assert.equal(last.body.code, 'CHORUS_CIRCUIT_OPEN');
    assert.equal(last.body.service, 'anime-tv');
  });
});

describe('MediaCo: ratings over NATS', { skip: await requireBroker('nats', NATS_URL) }, () => {
  let mc: Mediaco;
  before(async () => {
    mc = await startMediaco(NATS_URL);
  });
  after(() => mc?.close());

  test('the demo picks NATS when a server is reachable', () => {
    assert.equal(mc.backends.ratingsTransport, 'nats');
  });

  test('an item carries its rating fetched by NATS request/reply', async () => {
    const { status, headers, body } = await mc.get('/catalog/items/mc-0102');
    assert.equal(status, 200);
    assert.equal(headers.get('chorus-partial'), null);
    assert.equal((body.rating as { id: string }).id, 'mc-0102');
  });

  test('the ratings of a search page come in one NATS request for all of its hits', async () => {
    const { status, headers, body } = await mc.get('/catalog/search?q=night&limit=20');
    assert.equal(status, 200);
    assert.equal(headers.get('chorus-partial'), null);
    const items = body.items as { rating: { score: number } | null }[];
    assert.ok(items.length > 0);
    assert.ok(items.every((item) => typeof item.rating?.score === 'number'));
  });

  test('a review travels over NATS and changes the rating the item shows', async () => {
    const before = (await mc.get('/catalog/items/mc-0202')).body as unknown as Item;
    const posted = await mc.post('/catalog/items/mc-0202/reviews', { score: 1 });
    assert.equal(posted.status, 201);
    assert.equal((posted.body.rating as { votes: number }).votes, before.rating!.votes + 1);
    const after = (await mc.get('/catalog/items/mc-0202')).body as unknown as Item;
    assert.equal(after.rating!.votes, before.rating!.votes + 1);
  });

  test('with the NATS responder gone the item is answered without a rating, marked partial', async () => {
    await mc.backends.stop('ratings');
    const { status, headers, body } = await mc.get('/catalog/items/mc-0103');
    assert.equal(status, 200);
    assert.equal(headers.get('chorus-partial'), 'rating');
    assert.equal(body.rating, null);
    assert.equal((body.warnings as { code: string }[])[0]!.code, 'CHORUS_UPSTREAM_UNAVAILABLE');
  });
});
