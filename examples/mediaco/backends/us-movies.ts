/**
 * us-movies — REST/JSON with its own field names (film_title, release_year…), page/page_size
 * paging, and a bearer token on every call.
 */
import { FILMS } from './data.ts';
import { type Handler, sendJson, titleMatches } from './http.ts';

/** The token us-movies expects (the gateway config sends it from US_MOVIES_TOKEN). */
export const US_MOVIES_TOKEN = 'demo-us-movies-token';

export const usMoviesHandler: Handler = (req, url, res) => {
  if (req.headers.authorization !== `Bearer ${US_MOVIES_TOKEN}`) {
    res.setHeader('www-authenticate', 'Bearer realm="us-movies"');
    return sendJson(res, 401, { error: 'invalid_token' });
  }
  const film = /^\/v2\/films\/([\w-]+)$/.exec(url.pathname);
  if (film) {
    const found = FILMS.find((f) => f.film_id === film[1]);
    return found ? sendJson(res, 200, { data: found }) : sendJson(res, 404, { error: 'no such film' });
  }
  if (url.pathname === '/v2/films') {
    const text = url.searchParams.get('title_contains') ?? '';
    const pageSize = Math.min(Math.max(Number(url.searchParams.get('page_size') ?? 10) || 10, 1), 50);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const hits = FILMS.filter((f) => titleMatches(f.film_title, text));
    return sendJson(res, 200, {
      data: hits.slice((page - 1) * pageSize, page * pageSize),
      paging: { page, page_size: pageSize, total: hits.length, has_more: page * pageSize < hits.length },
    });
  }
  sendJson(res, 404, { error: 'not found' });
};
