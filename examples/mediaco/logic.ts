/**
 * Code steps of the MediaCo gateway: the logic expressions should not carry — ranking the
 * search hits of four providers, paginating them with an opaque cursor, and putting related
 * items back in the order lookup gave them. Each function gets the flow's scope (the outputs of
 * the steps it lists in `after`) and returns plain JSON.
 */

/** A search hit or related item, in the catalog's words (before the catalog id is known). */
export interface Summary {
  /** "provider:ref": what lookup's reverse lookup takes. */
  key: string;
  type: 'movie' | 'album' | 'series' | 'programme';
  title: string;
  year: number | null;
  creator: string | null;
  source: string;
}

interface Film {
  film_id: string;
  film_title: string;
  release_year: number;
  director_name?: string;
}
interface Album {
  albumId: number;
  title: string;
  artist: string;
  year: number;
}
interface Series {
  id: string;
  title: string;
  premiered: number;
  studio: string;
}
interface Programme {
  '@ref': string;
  title: string;
  broadcast: string;
  presenter?: string;
}

const film = (f: Film): Summary => ({
  key: `us-movies:${f.film_id}`,
  type: 'movie',
  title: f.film_title,
  year: f.release_year,
  creator: f.director_name ?? null,
  source: 'us-movies',
});
const album = (a: Album): Summary => ({
  key: `nordic-music:${a.albumId}`,
  type: 'album',
  title: a.title,
  year: a.year,
  creator: a.artist,
  source: 'nordic-music',
});
const series = (s: Series): Summary => ({
  key: `anime-tv:${s.id}`,
  type: 'series',
  title: s.title,
  year: s.premiered,
  creator: s.studio,
  source: 'anime-tv',
});
const programme = (p: Programme): Summary => ({
  key: `uk-archive:${p['@ref']}`,
  type: 'programme',
  title: p.title,
  year: Number(p.broadcast.slice(0, 4)) || null,
  creator: p.presenter ?? null,
  source: 'uk-archive',
});

/** The provider answers a search reads; null for a provider skipped (type filter) or failed. */
interface SearchSteps {
  films: { data: Film[] } | null;
  albums: { album?: Album[] } | null;
  series: { searchSeries: Series[] } | null;
  archive: { results: { programme?: Programme[] } } | null;
}

interface SearchScope {
  request: { query: { q: string; limit: number; cursor?: string } };
  steps: SearchSteps;
}

/** How well a title matches the query: whole title, then a prefix, then a word start, then anywhere. */
export function matchScore(title: string, query: string): number {
  const t = title.toLowerCase();
  const q = query.trim().toLowerCase();
  if (t === q) return 4;
  if (t.startsWith(q)) return 3;
  if (t.split(/[\s'’-]+/).some((word) => word.startsWith(q))) return 2;
  return t.includes(q) ? 1 : 0;
}

/** The opaque cursor of an offset: base64url of "o:<offset>". */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

/** The offset of a cursor, or undefined when it is not one this gateway gave. */
export function decodeCursor(cursor: string): number | undefined {
  const match = /^o:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/**
 * Merges the four providers' hits, ranks them (match quality, then newest, then title) and
 * answers one page: `{total, items, keys, nextCursor}` — or `{invalidCursor: true}`.
 */
export function rankAndPage(scope: SearchScope): {
  invalidCursor?: true;
  total?: number;
  items?: Summary[];
  keys?: string[];
  nextCursor?: string | null;
} {
  const { q, limit, cursor } = scope.request.query;
  const offset = cursor === undefined ? 0 : decodeCursor(cursor);
  if (offset === undefined) return { invalidCursor: true };
  const { films, albums, series: shows, archive } = scope.steps;
  const hits: Summary[] = [
    ...(films?.data ?? []).map(film),
    ...(albums?.album ?? []).map(album),
    ...(shows?.searchSeries ?? []).map(series),
    ...(archive?.results.programme ?? []).map(programme),
  ];
  const ranked = hits
    .map((hit) => ({ hit, score: matchScore(hit.title, q) }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        (b.hit.year ?? 0) - (a.hit.year ?? 0) ||
        a.hit.title.localeCompare(b.hit.title) ||
        a.hit.key.localeCompare(b.hit.key),
    )
    .map(({ hit }) => hit);
  const items = ranked.slice(offset, offset + limit);
  const next = offset + limit;
  return {
    total: ranked.length,
    items,
    keys: items.map((item) => item.key),
    nextCursor: next < ranked.length ? encodeCursor(next) : null,
  };
}

interface RelatedScope {
  steps: {
    rel: { items?: { id: string; provider: string; ref: string }[] };
    relFilms: ({ data: Film } | null)[] | null;
    relAlbums: ({ album: Album } | null)[] | null;
    relSeries: ({ series: Series | null } | null)[] | null;
    relProgrammes: (Record<'programme', Programme> | null)[] | null;
  };
}

/**
 * The related items in lookup's order, each as `{id, type, title, year, creator, source}`.
 * Items whose provider call failed (skipped: null) are left out.
 */
export function relatedItems(scope: RelatedScope): (Omit<Summary, 'key'> & { id: string })[] {
  const { rel, relFilms, relAlbums, relSeries, relProgrammes } = scope.steps;
  const byProvider: Record<string, Summary[]> = {
    'us-movies': (relFilms ?? []).map((r) => (r ? film(r.data) : null)) as Summary[],
    'nordic-music': (relAlbums ?? []).map((r) => (r ? album(r.album) : null)) as Summary[],
    'anime-tv': (relSeries ?? []).map((r) => (r?.series ? series(r.series) : null)) as Summary[],
    'uk-archive': (relProgrammes ?? []).map((r) => (r ? programme(r.programme) : null)) as Summary[],
  };
  const seen: Record<string, number> = { 'us-movies': 0, 'nordic-music': 0, 'anime-tv': 0, 'uk-archive': 0 };
  const out: (Omit<Summary, 'key'> & { id: string })[] = [];
  for (const entry of rel.items ?? []) {
    const index = seen[entry.provider]!;
    seen[entry.provider] = index + 1;
    const summary = byProvider[entry.provider]?.[index];
    if (!summary) continue;
    const { key: _key, ...rest } = summary;
    out.push({ id: entry.id, ...rest });
  }
  return out;
}
