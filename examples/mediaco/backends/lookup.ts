/**
 * lookup — REST/JSON: where each catalog item lives (provider and its id there), the reverse
 * (catalog ids of provider ids), and a related-items index.
 */

import { CATALOG_IDS, LOCATIONS, relatedTo } from './data.ts';
import { type Handler, sendJson } from './http.ts';

const ID = /^\/(locate|related)\/(mc-\d{4})$/;

export const lookupHandler: Handler = (req, url, res) => {
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
  const match = ID.exec(url.pathname);
  if (match) {
    const id = match[2]!;
    const where = LOCATIONS[id];
    if (!where) return sendJson(res, 404, { error: 'unknown item', id });
    if (match[1] === 'locate') return sendJson(res, 200, { id, provider: where.provider, ref: where.ref });
    return sendJson(res, 200, { id, items: relatedTo(id) });
  }
  if (url.pathname === '/reverse') {
    // ?key=us-movies:f1000&key=anime-tv:show-700 → { ids: { "us-movies:f1000": "mc-0001", ... } }
    const keys = url.searchParams.getAll('key').slice(0, 200);
    const ids: Record<string, string> = {};
    for (const key of keys) {
      const id = CATALOG_IDS[key];
      if (id !== undefined) ids[key] = id;
    }
    return sendJson(res, 200, { ids });
  }
  if (url.pathname.startsWith('/locate/') || url.pathname.startsWith('/related/')) {
    return sendJson(res, 404, { error: 'unknown item' });
  }
  sendJson(res, 404, { error: 'not found' });
};
