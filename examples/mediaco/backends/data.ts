/** Seed data of the MediaCo demo providers: generated deterministically, so tests can rely on it. */

export interface Film {
  film_id: string;
  film_title: string;
  release_year: number;
  running_time_min: number;
  genre_codes: string[];
  synopsis_text: string;
}

const TITLES = [
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
const GENRES = ['DRA', 'COM', 'THR', 'SCI', 'DOC', 'ROM'];

/** Films of the us-movies provider, in its own field names. */
export const FILMS: Film[] = TITLES.map((title, i) => ({
  film_id: `f${1000 + i}`,
  film_title: title,
  release_year: 1985 + ((i * 7) % 39),
  running_time_min: 85 + ((i * 13) % 60),
  genre_codes: [GENRES[i % GENRES.length]!, GENRES[(i + 2) % GENRES.length]!],
  synopsis_text: `${title}: a story told in ${85 + ((i * 13) % 60)} minutes.`,
}));

/** The lookup table: public catalog id → provider and its id there. */
export const LOCATIONS: Record<string, { provider: string; ref: string }> = Object.fromEntries(
  FILMS.map((film, i) => [
    `mc-${String(i + 1).padStart(4, '0')}`,
    { provider: 'us-movies', ref: film.film_id },
  ]),
);

/** Ratings by catalog id: a stable pseudo-random score and vote count. */
export function ratingOf(id: string): { score: number; votes: number } {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return { score: Math.round((5 + (hash % 50) / 10) * 10) / 10, votes: 10 + (hash % 5000) };
}
