/**
 * The MediaCo demo providers, each a small real HTTP server: lookup (REST/JSON), us-movies
 * (REST/JSON with its own field names, paging and a bearer token) and ratings (REST/JSON for now;
 * the broker transport replaces it when issue "message-broker transports" lands).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FILMS, LOCATIONS, ratingOf } from './data.ts';

/** The token us-movies expects (the gateway config sends it from US_MOVIES_TOKEN). */
export const US_MOVIES_TOKEN = 'demo-us-movies-token';

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void;

async function listen(handler: Handler, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    handler(req, url, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

const lookup: Handler = (_req, url, res) => {
  const match = /^\/locate\/([\w-]+)$/.exec(url.pathname);
  const location = match ? LOCATIONS[match[1]!] : undefined;
  if (!location) return send(res, 404, { error: 'unknown item' });
  send(res, 200, { id: match![1], ...location });
};

const usMovies: Handler = (req, url, res) => {
  if (req.headers.authorization !== `Bearer ${US_MOVIES_TOKEN}`)
    return send(res, 401, { error: 'bad token' });
  const film = /^\/v2\/films\/([\w-]+)$/.exec(url.pathname);
  if (film) {
    const found = FILMS.find((f) => f.film_id === film[1]);
    return found ? send(res, 200, { data: found }) : send(res, 404, { error: 'no such film' });
  }
  if (url.pathname === '/v2/films') {
    const q = (url.searchParams.get('title_contains') ?? '').toLowerCase();
    const pageSize = Math.min(Number(url.searchParams.get('page_size') ?? 10) || 10, 50);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
    const hits = FILMS.filter((f) => f.film_title.toLowerCase().includes(q));
    return send(res, 200, {
      data: hits.slice((page - 1) * pageSize, page * pageSize),
      paging: { page, page_size: pageSize, total: hits.length },
    });
  }
  send(res, 404, { error: 'not found' });
};

const ratings: Handler = (_req, url, res) => {
  const match = /^\/ratings\/([\w-]+)$/.exec(url.pathname);
  if (!match) return send(res, 404, { error: 'not found' });
  send(res, 200, { id: match[1], ...ratingOf(match[1]!) });
};

/** The running demo providers and their base URLs. */
export interface DemoBackends {
  urls: { lookup: string; usMovies: string; ratings: string };
  close(): Promise<void>;
}

/** Starts every demo provider on 127.0.0.1 (port 0: any free port). */
export async function startDemoBackends(
  ports: { lookup?: number; usMovies?: number; ratings?: number } = {},
): Promise<DemoBackends> {
  const servers = await Promise.all([
    listen(lookup, ports.lookup ?? 0),
    listen(usMovies, ports.usMovies ?? 0),
    listen(ratings, ports.ratings ?? 0),
  ]);
  const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    urls: { lookup: url(servers[0]), usMovies: url(servers[1]), ratings: url(servers[2]) },
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
