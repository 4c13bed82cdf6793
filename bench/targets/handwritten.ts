/** The hand-written node:http + undici proxy/aggregator: the Node limit Chorus is compared with. */
import { startNodeServer } from './node-server.ts';
import type { Target } from './types.ts';

export const handwrittenTarget: Target = {
  name: 'handwritten',
  description: 'hand-written node:http + undici Pool.request proxy/aggregator (the Node limit)',
  unavailable: (scenario) => (scenario.handwritten ? undefined : 'no hand-written handler for this scenario'),
  start: (context) => startNodeServer(context, { name: 'handwritten', script: 'handwritten-server.ts' }),
};
