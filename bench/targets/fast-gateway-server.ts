/** fast-gateway 3.4 (restana + fast-proxy-lite, keep-alive agent) forwarding the public path. */
import gateway from 'fast-gateway';
import { loadScenario } from '../scenarios/index.ts';
import { serverArgs } from './node-server.ts';

const args = serverArgs();
const scenario = loadScenario(args.scenario);
const server = gateway({
  // pathRegex '' makes the route the exact public path; prefixRewrite maps it to the backend path.
  routes: [
    {
      prefix: scenario.path,
      pathRegex: '',
      prefixRewrite: scenario.upstreamPath!,
      target: args.backends.static,
    },
  ],
});
await server.start(args.port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
