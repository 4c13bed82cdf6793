/**
 * The MediaCo demo providers, each a small real server speaking its own protocol:
 *
 * - lookup — REST/JSON: where an item lives, reverse lookup, related items;
 * - us-movies — REST/JSON with its own field names, paging and a bearer token;
 * - nordic-music — SOAP 1.1 described by nordic-music.wsdl;
 * - anime-tv — GraphQL;
 * - uk-archive — plain XML over HTTP;
 * - ratings — NATS request/reply when a NATS server is reachable, else HTTP.
 *
 * Every one listens on 127.0.0.1, on an ephemeral port unless told otherwise, and gatewayEnv()
 * gives the variables the gateway config reads to find them.
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { animeTvHandler } from './anime-tv.ts';
import { listen, type RunningServer } from './http.ts';
import { lookupHandler } from './lookup.ts';
import { nordicMusicHandler } from './nordic-music.ts';
import { type NatsResponder, RatingStore, ratingsHttpHandler, startNatsResponder } from './ratings.ts';
import { ukArchiveHandler } from './uk-archive.ts';
import { US_MOVIES_TOKEN, usMoviesHandler } from './us-movies.ts';

export { US_MOVIES_TOKEN };

/** The HTTP-speaking providers, by the name the gateway config gives them. */
export type ProviderName = 'lookup' | 'us-movies' | 'nordic-music' | 'anime-tv' | 'uk-archive' | 'ratings';

/** How the demo ratings service is reached. */
export type RatingsTransport = 'nats' | 'http';

export interface DemoBackendOptions {
  /** Fixed ports by provider (default: any free port). */
  ports?: Partial<Record<ProviderName, number>>;
  /**
   * The NATS server for ratings; `false` forces the HTTP responder. Default: NATS_URL or
   * nats://127.0.0.1:4222, used when it accepts a connection within half a second.
   */
  nats?: string | false;
}

/** The running demo providers. */
export interface DemoBackends {
  /** Base URLs (nordic-music: the SOAP endpoint; anime-tv: the GraphQL endpoint). */
  urls: Record<ProviderName, string>;
  ratingsTransport: RatingsTransport;
  /** The NATS server ratings answers on (when ratingsTransport is nats). */
  natsUrl: string | undefined;
  /** The subject prefix ratings answers on; unique per run, so several demos can share a server. */
  ratingsSubjectPrefix: string;
  /** The variables the gateway config (gateway.yaml) reads to find the providers. */
  gatewayEnv(): Record<string, string>;
  /** Stops one provider (to show what the gateway does when it is down). */
  stop(name: ProviderName): Promise<void>;
  close(): Promise<void>;
}

/** Whether something accepts TCP connections at the NATS URL's host and port. */
export function natsReachable(url: string, timeoutMs = 500): Promise<boolean> {
  const first = url.split(',')[0]!.trim();
  const parsed = new URL(first.includes('://') ? first : `nats://${first}`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = parsed.port === '' ? 4222 : Number(parsed.port);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Starts every demo provider on 127.0.0.1. */
export async function startDemoBackends(options: DemoBackendOptions = {}): Promise<DemoBackends> {
  const ports = options.ports ?? {};
  const store = new RatingStore();
  const candidate =
    options.nats === false ? undefined : (options.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
  let natsUrl = candidate !== undefined && (await natsReachable(candidate)) ? candidate : undefined;
  const ratingsSubjectPrefix = `mediaco.ratings.${randomBytes(4).toString('hex')}`;

  const servers = new Map<ProviderName, RunningServer>();
  let responder: NatsResponder | undefined;
  const close = async (): Promise<void> => {
    await Promise.all([...servers.values()].map((server) => server.close()));
    servers.clear();
    await responder?.close();
    responder = undefined;
  };
  try {
    const started = await Promise.all([
      listen(lookupHandler, ports.lookup),
      listen(usMoviesHandler, ports['us-movies']),
      listen(nordicMusicHandler, ports['nordic-music']),
      listen(animeTvHandler, ports['anime-tv']),
      listen(ukArchiveHandler, ports['uk-archive']),
      listen(ratingsHttpHandler(store), ports.ratings),
    ]);
    const names: ProviderName[] = [
      'lookup',
      'us-movies',
      'nordic-music',
      'anime-tv',
      'uk-archive',
      'ratings',
    ];
    for (const [i, name] of names.entries()) servers.set(name, started[i]!);
    if (natsUrl !== undefined) {
      // Something answers on the port but may not be a NATS server: then HTTP it is.
      responder = await startNatsResponder(natsUrl, ratingsSubjectPrefix, store).catch(() => undefined);
      if (responder === undefined) natsUrl = undefined;
    }
  } catch (error) {
    await close();
    throw error;
  }
  const base = (name: ProviderName): string => servers.get(name)!.url;
  const urls: Record<ProviderName, string> = {
    lookup: base('lookup'),
    'us-movies': base('us-movies'),
    'nordic-music': `${base('nordic-music')}/soap/catalog`,
    'anime-tv': `${base('anime-tv')}/graphql`,
    'uk-archive': base('uk-archive'),
    ratings: base('ratings'),
  };
  const ratingsTransport: RatingsTransport = natsUrl === undefined ? 'http' : 'nats';
  return {
    urls,
    ratingsTransport,
    natsUrl,
    ratingsSubjectPrefix,
    gatewayEnv: () => ({
      LOOKUP_URL: urls.lookup,
      US_MOVIES_URL: urls['us-movies'],
      US_MOVIES_TOKEN,
      NORDIC_MUSIC_URL: urls['nordic-music'],
      ANIME_TV_URL: urls['anime-tv'],
      UK_ARCHIVE_URL: urls['uk-archive'],
      RATINGS_URL: urls.ratings,
      RATINGS_TRANSPORT: ratingsTransport,
      RATINGS_SUBJECT_PREFIX: ratingsSubjectPrefix,
      ...(natsUrl === undefined ? {} : { NATS_URL: natsUrl }),
    }),
    stop: async (name) => {
      if (name === 'ratings') {
        await responder?.close();
        responder = undefined;
      }
      await servers.get(name)?.close();
      servers.delete(name);
    },
    close,
  };
}
