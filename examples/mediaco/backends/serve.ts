/**
 * The MediaCo demo providers on their own, on fixed ports, for a gateway running elsewhere (the
 * compose file of docs/deploy.md runs this in a container of the Chorus image):
 *
 *   MEDIACO_BACKENDS_HOST=0.0.0.0 node examples/mediaco/backends/serve.ts
 *
 * lookup 9101, us-movies 9102, ratings (HTTP) 9103, nordic-music 9104, anime-tv 9105,
 * uk-archive 9106. Stops on SIGTERM or SIGINT.
 */
import { startDemoBackends } from './servers.ts';

const backends = await startDemoBackends({
  nats: false,
  ports: {
    lookup: 9101,
    'us-movies': 9102,
    ratings: 9103,
    'nordic-music': 9104,
    'anime-tv': 9105,
    'uk-archive': 9106,
  },
});
process.stdout.write(`MediaCo demo providers listening: ${JSON.stringify(backends.urls)}\n`);
const stop = (): void => {
  void backends.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
