/**
 * The demo backend of the pattern recipes (docs/patterns.md): one small HTTP server with a route
 * per recipe, and a GraphQL endpoint at /graphql. `node examples/patterns/backend.ts` serves it on
 * PORT (default 4100), where the recipes' default PATTERNS_API points; the tests start it on any
 * free port and count its calls.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildSchema, graphql } from 'graphql';

/** A running demo backend. */
export interface PatternsBackend {
  readonly url: string;
  /** Every request received, as "METHOD /path?query". */
  readonly calls: string[];
  close(): Promise<void>;
}

const ITEMS: Record<string, { provider: string; ref: string }> = {
  'mc-1': { provider: 'films', ref: 'f-101' },
  'mc-2': { provider: 'music', ref: 'm-202' },
};
const FILMS: Record<string, { title: string; year: number }> = {
  'f-101': { title: 'The Long Night', year: 1999 },
};
const ALBUMS: Record<string, { album: string; artist: string }> = {
  'm-202': { album: 'Night Songs', artist: 'Aurora North' },
};
const USERS = Array.from({ length: 60 }, (_, i) => ({ id: `u${i + 1}`, name: `User ${i + 1}` }));
const FARES = [
  { id: 'fa1', currency: 'EUR', price: 10.1 },
  { id: 'fa2', currency: 'USD', price: 3.333 },
  { id: 'fa3', currency: 'EUR', price: 0.2 },
  { id: 'fa4', currency: 'USD', price: 1.002 },
];
const SHOWS = Array.from({ length: 5 }, (_, i) => ({ id: `s${i + 1}`, title: `Show ${i + 1}` }));

const schema = buildSchema(`
  type Show { id: ID!, title: String! }
  type PageInfo { hasNextPage: Boolean!, endCursor: String }
  type ShowConnection { nodes: [Show!]!, pageInfo: PageInfo! }
  type Query { shows(first: Int!, after: String): ShowConnection! }
`);
const rootValue = {
  shows: ({ first, after }: { first: number; after?: string | null }) => {
    const start = after ? Number(after) : 0;
    const nodes = SHOWS.slice(start, start + first);
    const end = start + nodes.length;
    return { nodes, pageInfo: { hasNextPage: end < SHOWS.length, endCursor: String(end) } };
  },
};

/** Sends a JSON answer; true, so a route can `return send(…)`. */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
  return true;
}

function route(req: IncomingMessage, res: ServerResponse, body: string): boolean {
  const url = new URL(req.url ?? '/', 'http://demo');
  const path = url.pathname;
  const query = url.searchParams;
  if (path === '/graphql' && req.method === 'POST') {
    const { query: source, variables } = JSON.parse(body) as {
      query: string;
      variables?: Record<string, unknown>;
    };
    void graphql({ schema, source, rootValue, variableValues: variables ?? null }).then((result) =>
      send(res, 200, result),
    );
    return true;
  }
  const lookup = /^\/lookup\/([\w-]+)$/.exec(path);
  const film = /^\/films\/([\w-]+)$/.exec(path);
  const music = /^\/music\/([\w-]+)$/.exec(path);
  const rates = /^\/rates\/(\w+)$/.exec(path);
  if (lookup) {
    const item = ITEMS[lookup[1]!];
    return item ? send(res, 200, item) : send(res, 404, { error: 'unknown item' });
  }
  if (film && film[1] !== 'search') {
    const found = FILMS[film[1]!];
    return found ? send(res, 200, found) : send(res, 404, { error: 'no such film' });
  }
  if (music && music[1] !== 'search') {
    const album = ALBUMS[music[1]!];
    return album ? send(res, 200, album) : send(res, 404, { error: 'no such album' });
  }
  if (path === '/films/search') {
    return send(res, 200, {
      results: [
        { title: 'The Long Night', year: 1999 },
        { title: 'Night Train', year: 2004 },
      ],
    });
  }
  if (path === '/music/search') {
    return send(res, 200, { hits: [{ album: 'Night Songs', released: 2001 }] });
  }
  if (path === '/flights') {
    // Cursor pagination: 3 pages chained by next_cursor.
    const pages: Record<string, { flights: { id: string }[]; next_cursor: string | null }> = {
      '': { flights: [{ id: 'BA1' }, { id: 'BA2' }], next_cursor: 'c2' },
      c2: { flights: [{ id: 'BA3' }, { id: 'BA4' }], next_cursor: 'c3' },
      c3: { flights: [{ id: 'BA5' }], next_cursor: null },
    };
    return send(res, 200, pages[query.get('cursor') ?? ''] ?? { flights: [], next_cursor: null });
  }
  if (path === '/repos') {
    // Next-link pagination in an RFC 8288 Link header: 5 repos, per_page at a time.
    const page = Number(query.get('page') ?? '1');
    const per = Number(query.get('per_page') ?? '2');
    const repos = Array.from({ length: 5 }, (_, i) => ({ name: `repo-${i + 1}` })).slice(
      (page - 1) * per,
      page * per,
    );
    const more = page * per < 5;
    return send(
      res,
      200,
      repos,
      more ? { link: `<https://api.demo/repos?page=${page + 1}&per_page=${per}>; rel="next"` } : {},
    );
  }
  if (path === '/orders') {
    // Page numbers with a total: 3 pages of 2 orders.
    const page = Number(query.get('page') ?? '1');
    const items = [2 * page - 1, 2 * page].map((n) => ({ id: `o${n}`, userId: `u${n}`, amount: n * 10 }));
    return send(res, 200, { page, total_pages: 3, items });
  }
  if (path === '/users') {
    // A batch operation: any number of ids, answered in its own order.
    const ids = (query.get('ids') ?? '').split(',').filter((id) => id !== '');
    const users = USERS.filter((user) => ids.includes(user.id)).reverse();
    return send(res, 200, { users });
  }
  if (path === '/fares') return send(res, 200, FARES);
  if (rates) {
    // The live rate service is down for GBP: a recipe falls back.
    if (rates[1] === 'GBP') return send(res, 503, { error: 'maintenance' });
    return send(res, 200, { currency: rates[1], rate: rates[1] === 'USD' ? 1.08 : 1 });
  }
  return send(res, 404, { error: 'not found' });
}

/** Starts the demo backend on 127.0.0.1 (port 0: any free port). */
export async function startPatternsBackend(port = 0): Promise<PatternsBackend> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url}`);
      route(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const backend = await startPatternsBackend(Number(process.env.PORT ?? 4100));
  process.stdout.write(`patterns demo backend on ${backend.url}\n`);
}
