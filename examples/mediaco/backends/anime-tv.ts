/** anime-tv — GraphQL over HTTP (POST /graphql), executed by the graphql reference implementation. */
import { buildSchema, graphql } from 'graphql';
import { SHOWS } from './data.ts';
import { type Handler, readText, sendJson, titleMatches } from './http.ts';

/** The schema anime-tv serves. */
export const ANIME_SDL = `
  "Genres of a series."
  enum Genre { ACTION ADVENTURE COMEDY DRAMA FANTASY MYSTERY SCIFI SLICE_OF_LIFE }
  "A TV series."
  type Series {
    id: ID!
    title: String!
    premiered: Int!
    studio: String!
    genres: [Genre!]!
    episodeCount: Int!
    synopsis: String
  }
  type Query {
    "One series by id, or null."
    series(id: ID!): Series
    "Series whose title contains a text."
    searchSeries(text: String!, first: Int = 20): [Series!]!
  }
`;

const schema = buildSchema(ANIME_SDL);
const rootValue = {
  series: ({ id }: { id: string }) => SHOWS.find((s) => s.id === id) ?? null,
  searchSeries: ({ text, first }: { text: string; first: number }) =>
    SHOWS.filter((s) => titleMatches(s.title, text)).slice(0, Math.min(Math.max(first, 0), 100)),
};

export const animeTvHandler: Handler = async (req, url, res) => {
  if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found' });
  if (req.method !== 'POST') return sendJson(res, 405, { errors: [{ message: 'use POST' }] });
  let request: { query?: unknown; variables?: unknown; operationName?: unknown };
  try {
    request = JSON.parse(await readText(req)) as typeof request;
  } catch {
    return sendJson(res, 400, { errors: [{ message: 'the body is not JSON' }] });
  }
  if (typeof request.query !== 'string') return sendJson(res, 400, { errors: [{ message: 'no query' }] });
  const result = await graphql({
    schema,
    source: request.query,
    rootValue,
    variableValues: (request.variables as Record<string, unknown> | undefined) ?? null,
    operationName: typeof request.operationName === 'string' ? request.operationName : null,
  });
  sendJson(res, 200, result);
};
