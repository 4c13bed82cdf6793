/** fast-gateway 3.4.x (5.x does not install from the registry). */
import { missingPackage } from '../lib/tools.ts';
import { startNodeServer } from './node-server.ts';
import type { Target } from './types.ts';

export const fastGatewayTarget: Target = {
  name: 'fast-gateway',
  description: 'fast-gateway 3.4 (restana + fast-proxy-lite)',
  unavailable: (scenario) =>
    missingPackage('fast-gateway', 'fast-gateway@3.4') ??
    (scenario.upstreamPath ? undefined : 'plain proxy only: cannot compose calls'),
  start: (context) => startNodeServer(context, { name: 'fast-gateway', script: 'fast-gateway-server.ts' }),
};
