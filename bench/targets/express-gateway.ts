/** Express Gateway (Express + http-proxy). */
import { missingPackage } from '../lib/tools.ts';
import { startNodeServer } from './node-server.ts';
import type { Target } from './types.ts';

export const expressGatewayTarget: Target = {
  name: 'express-gateway',
  description: 'Express Gateway 1.16 (Express 4 + http-proxy)',
  unavailable: (scenario) =>
    missingPackage('express-gateway', 'express-gateway') ??
    (scenario.upstreamPath ? undefined : 'plain proxy only: cannot compose calls'),
  start: (context) =>
    startNodeServer(context, {
      name: 'express-gateway',
      script: 'express-gateway-server.ts',
      env: { LOG_LEVEL: 'error', EG_DISABLE_CONFIG_WATCH: 'true' },
    }),
};
