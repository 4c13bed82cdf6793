/**
 * Seed data of the MediaCo demo providers, generated deterministically (a seeded PRNG), so the
 * same ids always hold the same items and tests can rely on them. 300 items in all:
 *
 * | catalog ids        | provider     | what            |
 * | ------------------ | ------------ | --------------- |
 * | mc-0001 … mc-0090  | us-movies    | 90 films        |
 * | mc-0101 … mc-0180  | nordic-music | 80 albums       |
 * | mc-0201 … mc-0270  | anime-tv     | 70 TV series    |
 * | mc-0301 … mc-0360  | uk-archive   | 60 old programmes |
 *
 * Each provider has its own ids and field names; only lookup knows the catalog ids.
 */

/** A deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function picker(random: () => number) {
  return <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
}

/** Titles built from word pairs, without repeats, in a seeded order. */
function titles(count: number, seed: number, first: readonly string[], second: readonly string[]): string[] {
  const random = seededRandom(seed);
  const pick = picker(random);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < count) {
    const title = `${pick(first)} ${pick(second)}`;
    if (seen.has(title)) continue;
    seen.add(title);
    out.push(title);
  }
  return out;
}

// ---- us-movies: REST/JSON, its own snake_case field names -------------------------------------

export interface Film {
  film_id: string;
  film_title: string;
  release_year: number;
  running_time_min: number;
  genre_codes: string[];
  director_name: string;
  synopsis_text: string;
}

const FIRST_FILMS = [
  'The Long Night',
  'Harbor Lights',
  'Echoes of Tomorrow',
  'Red Canyon',
  'Silent Orbit',
  'Paper Crowns',
  'The Last Ferry',
  'Glass Garden',
  'Northbound',
  'Midnight Diner',
  'Iron Meadow',
  'Blue Horizon',
  'The Cartographer',
  'Falling Upward',
  'City of Kites',
  'Salt and Smoke',
  'Quiet Thunder',
  'Golden Hour',
  'Winter Orchard',
  'The Understudy',
  'Neon Harvest',
  'Second Sunrise',
  'Broken Compass',
  'Velvet Static',
  'The Night Shift',
  'Lantern Bay',
  'Open Water',
  'The Archivist',
  'Copper Sky',
  'Distant Shores',
];
const FILM_WORDS_1 = [
  'Crimson',
  'Hollow',
  'Electric',
  'Lonesome',
  'Burning',
  'Hidden',
  'Savage',
  'Gentle',
  'Fallen',
  'Wild',
  'Frozen',
  'Desert',
  'Last',
  'Lucky',
  'Sleeping',
];
const FILM_WORDS_2 = [
  'Highway',
  'Summer',
  'Empire',
  'River',
  'Kingdom',
  'Signal',
  'Frontier',
  'Hearts',
  'Night',
  'Season',
  'Witness',
  'Paradise',
  'Engine',
  'Promise',
  'Harbor',
];
const DIRECTORS = [
  'Ava Brennan',
  'Marcus Holt',
  'Lena Ortiz',
  'Samuel Reed',
  'Priya Nair',
  'Owen Gallagher',
  'Hannah Cole',
  'Diego Marín',
  'June Park',
  'Elliot Vance',
];
const GENRES = ['DRA', 'COM', 'THR', 'SCI', 'DOC', 'ROM'];

/** Films of the us-movies provider, in its own field names. */
export const FILMS: Film[] = (() => {
  const random = seededRandom(1001);
  const pick = picker(random);
  const extra = titles(60, 1002, FILM_WORDS_1, FILM_WORDS_2).filter((t) => !FIRST_FILMS.includes(t));
  return [...FIRST_FILMS, ...extra].slice(0, 90).map((title, i) => {
    const minutes = 85 + ((i * 13) % 60);
    return {
      film_id: `f${1000 + i}`,
      film_title: title,
      release_year: 1985 + ((i * 7) % 39),
      running_time_min: minutes,
      genre_codes: [GENRES[i % GENRES.length]!, GENRES[(i + 2) % GENRES.length]!],
      director_name: pick(DIRECTORS),
      synopsis_text: `${title}: a story told in ${minutes} minutes.`,
    };
  });
})();

// ---- nordic-music: SOAP 1.1 ---------------------------------------------------------------------

export interface Album {
  albumId: number;
  title: string;
  artist: string;
  year: number;
  genre: string;
  label: string;
  tracks: { number: number; title: string; seconds: number }[];
}

const ALBUM_WORDS_1 = [
  'Northern',
  'Midnight',
  'Silver',
  'Fjord',
  'Aurora',
  'Pale',
  'Hollow',
  'Ember',
  'Frost',
  'Velvet',
  'Distant',
  'Quiet',
];
const ALBUM_WORDS_2 = [
  'Lights',
  'Songs',
  'Tides',
  'Echoes',
  'Sessions',
  'Hymns',
  'Machines',
  'Winters',
  'Rooms',
  'Bridges',
  'Night',
  'Colours',
];
const ARTISTS = [
  'Astrid Lund',
  'The Fjellbekk Trio',
  'Eino Virtanen',
  'Saga Nyström',
  'Kalle & the Northmen',
  'Freja Dahl',
  'Ingrid Solheim',
  'Oskar Berg Quartet',
  'Liv Haugen',
  'Mikko Rantanen Band',
  'Sigrid Ek',
  'Jonas Falk',
];
const ALBUM_GENRES = ['jazz', 'folk', 'electronic', 'rock', 'classical', 'pop'];
const LABELS = ['Polar Records', 'Nordlys', 'Kaamos Music', 'Fjord Sound'];
const TRACK_WORDS = [
  'Snow',
  'Harbour',
  'Lantern',
  'Birch',
  'Morning',
  'Coastline',
  'Fire',
  'Glass',
  'Raven',
  'Meadow',
  'Return',
  'Home',
];

/** Albums of the nordic-music provider. */
export const ALBUMS: Album[] = (() => {
  const random = seededRandom(2001);
  const pick = picker(random);
  return titles(80, 2002, ALBUM_WORDS_1, ALBUM_WORDS_2).map((title, i) => {
    const trackCount = 6 + Math.floor(random() * 7);
    return {
      albumId: 500 + i,
      title,
      artist: pick(ARTISTS),
      year: 1968 + Math.floor(random() * 56),
      genre: pick(ALBUM_GENRES),
      label: pick(LABELS),
      tracks: Array.from({ length: trackCount }, (_, t) => ({
        number: t + 1,
        title: `${pick(TRACK_WORDS)} ${pick(TRACK_WORDS)}`,
        seconds: 150 + Math.floor(random() * 300),
      })),
    };
  });
})();

// ---- anime-tv: GraphQL --------------------------------------------------------------------------

export interface Show {
  id: string;
  title: string;
  premiered: number;
  studio: string;
  genres: string[];
  episodeCount: number;
  synopsis: string;
}

const SHOW_WORDS_1 = [
  'Steel',
  'Moonlit',
  'Spirit',
  'Starlight',
  'Crimson',
  'Sky',
  'Phantom',
  'Cherry',
  'Thunder',
  'Hidden',
  'Clockwork',
  'Ocean',
];
const SHOW_WORDS_2 = [
  'Academy',
  'Blade',
  'Chronicle',
  'Guardians',
  'Garden',
  'Pilot',
  'Alchemist',
  'Festival',
  'Night',
  'Samurai',
  'Voyage',
  'Detectives',
];
const STUDIOS = ['Studio Kaze', 'Hoshi Animation', 'Sakura Works', 'Blue Lantern Studio', 'Kumo Pictures'];
const SHOW_GENRES = [
  'ACTION',
  'ADVENTURE',
  'COMEDY',
  'DRAMA',
  'FANTASY',
  'MYSTERY',
  'SCIFI',
  'SLICE_OF_LIFE',
];

/** TV series of the anime-tv provider. */
export const SHOWS: Show[] = (() => {
  const random = seededRandom(3001);
  const pick = picker(random);
  return titles(70, 3002, SHOW_WORDS_1, SHOW_WORDS_2).map((title, i) => {
    const first = pick(SHOW_GENRES);
    let second = pick(SHOW_GENRES);
    if (second === first) second = SHOW_GENRES[(SHOW_GENRES.indexOf(first) + 1) % SHOW_GENRES.length]!;
    const studio = pick(STUDIOS);
    return {
      id: `show-${700 + i}`,
      title,
      premiered: 1995 + Math.floor(random() * 30),
      studio,
      genres: [first, second],
      episodeCount: pick([12, 13, 24, 25, 26, 50]),
      synopsis: `${title}, a ${first.toLowerCase().replace('_', ' ')} series from ${studio}.`,
    };
  });
})();

// ---- uk-archive: plain XML ----------------------------------------------------------------------

export interface ArchiveRecord {
  ref: string;
  title: string;
  medium: 'television' | 'radio';
  /** YYYY-MM-DD */
  broadcast: string;
  durationMinutes: number;
  subject: string;
  presenter: string;
  abstract: string;
}

const ARCHIVE_WORDS_1 = [
  'Tomorrow’s',
  'The Changing',
  'Britain’s',
  'Voices of the',
  'Life on the',
  'The Great',
  'A Week in the',
  'Letters from the',
  'Inside the',
  'Night on the',
];
const ARCHIVE_WORDS_2 = [
  'World',
  'Coast',
  'Railways',
  'Village',
  'Thames',
  'Kitchen',
  'Garden',
  'Theatre',
  'Moors',
  'Harbour',
];
const SUBJECTS = ['history', 'science', 'nature', 'arts', 'current affairs', 'music'];
const PRESENTERS = [
  'Margaret Hale',
  'Geoffrey Pike',
  'Dorothy Wren',
  'Alistair Crane',
  'Joan Mercer',
  'Reginald Fox',
];

/** Programmes of the uk-archive provider. */
export const ARCHIVE: ArchiveRecord[] = (() => {
  const random = seededRandom(4001);
  const pick = picker(random);
  return titles(60, 4002, ARCHIVE_WORDS_1, ARCHIVE_WORDS_2).map((title, i) => {
    const year = 1950 + Math.floor(random() * 40);
    const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
    const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
    const medium = random() < 0.6 ? 'television' : 'radio';
    const subject = pick(SUBJECTS);
    const presenter = pick(PRESENTERS);
    const article = /^[aeiou]/.test(subject) ? 'an' : 'a';
    return {
      ref: `UKA-${year}-${String(i + 1).padStart(3, '0')}`,
      title,
      medium,
      broadcast: `${year}-${month}-${day}`,
      durationMinutes: pick([15, 25, 30, 45, 50, 60]),
      subject,
      presenter,
      abstract: `${title} (${medium}, ${year}): ${article} ${subject} programme presented by ${presenter}.`,
    };
  });
})();

// ---- lookup: catalog id → provider and its id there ---------------------------------------------

/** The providers, by the name the gateway config gives them. */
export type Provider = 'us-movies' | 'nordic-music' | 'anime-tv' | 'uk-archive';

export interface Location {
  provider: Provider;
  ref: string;
  /** Genre-like tags, for the related-items index. */
  tags: string[];
}

const catalogId = (n: number): string => `mc-${String(n).padStart(4, '0')}`;

const FILM_TAGS: Record<string, string> = {
  DRA: 'drama',
  COM: 'comedy',
  THR: 'thriller',
  SCI: 'science-fiction',
  DOC: 'documentary',
  ROM: 'romance',
};
const SHOW_TAGS: Record<string, string> = {
  ACTION: 'action',
  ADVENTURE: 'adventure',
  COMEDY: 'comedy',
  DRAMA: 'drama',
  FANTASY: 'fantasy',
  MYSTERY: 'thriller',
  SCIFI: 'science-fiction',
  SLICE_OF_LIFE: 'slice-of-life',
};

/** The lookup table: public catalog id → provider, its id there, and tags for related items. */
export const LOCATIONS: Record<string, Location> = Object.fromEntries([
  ...FILMS.map(
    (f, i) =>
      [
        catalogId(1 + i),
        { provider: 'us-movies', ref: f.film_id, tags: f.genre_codes.map((g) => FILM_TAGS[g]!) },
      ] as const,
  ),
  ...ALBUMS.map(
    (a, i) =>
      [
        catalogId(101 + i),
        { provider: 'nordic-music', ref: String(a.albumId), tags: ['music', a.genre] },
      ] as const,
  ),
  ...SHOWS.map(
    (s, i) =>
      [
        catalogId(201 + i),
        { provider: 'anime-tv', ref: s.id, tags: s.genres.map((g) => SHOW_TAGS[g]!) },
      ] as const,
  ),
  ...ARCHIVE.map(
    (r, i) =>
      [
        catalogId(301 + i),
        {
          provider: 'uk-archive',
          ref: r.ref,
          tags: [r.subject === 'music' ? 'music' : 'documentary', r.subject],
        },
      ] as const,
  ),
]);

/** The reverse of LOCATIONS: "provider:ref" → catalog id. */
export const CATALOG_IDS: Record<string, string> = Object.fromEntries(
  Object.entries(LOCATIONS).map(([id, where]) => [`${where.provider}:${where.ref}`, id]),
);

/**
 * Up to `limit` other items sharing a tag with the item: the best matches of each provider (most
 * shared tags, then a stable shuffle), taken in turn from each provider so every kind shows up.
 */
export function relatedTo(id: string, limit = 6): { id: string; provider: Provider; ref: string }[] {
  const item = LOCATIONS[id];
  if (!item) return [];
  const byProvider = new Map<Provider, { other: string; where: Location; shared: number }[]>();
  for (const [other, where] of Object.entries(LOCATIONS)) {
    const shared = where.tags.filter((t) => item.tags.includes(t)).length;
    if (other === id || shared === 0) continue;
    const list = byProvider.get(where.provider) ?? [];
    list.push({ other, where, shared });
    byProvider.set(where.provider, list);
  }
  const queues = [...byProvider.values()].map((list) =>
    list.sort((a, b) => b.shared - a.shared || hash(`${id}${a.other}`) - hash(`${id}${b.other}`)),
  );
  // The item's own provider first, then the others in a fixed order.
  queues.sort(
    (a, b) => Number(b[0]!.where.provider === item.provider) - Number(a[0]!.where.provider === item.provider),
  );
  const out: { id: string; provider: Provider; ref: string }[] = [];
  for (let round = 0; out.length < limit && queues.some((q) => q.length > round); round++) {
    for (const queue of queues) {
      const next = queue[round];
      if (next && out.length < limit)
        out.push({ id: next.other, provider: next.where.provider, ref: next.where.ref });
    }
  }
  return out;
}

function hash(text: string): number {
  let h = 0;
  for (const char of text) h = (h * 31 + char.charCodeAt(0)) >>> 0;
  return h;
}

// ---- ratings ------------------------------------------------------------------------------------

/** A rating: the mean score (0–10, one decimal) and how many votes made it. */
export interface Rating {
  id: string;
  score: number;
  votes: number;
}

/** The seed rating of a catalog id: a stable pseudo-random score and vote count. */
export function ratingOf(id: string): { score: number; votes: number } {
  const h = hash(id);
  return { score: Math.round((5 + (h % 50) / 10) * 10) / 10, votes: 10 + (h % 5000) };
}
