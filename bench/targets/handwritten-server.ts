/**
 * The hand-written limit: node:http + one undici Pool per backend origin, with the scenario's
 * handler and nothing else (no router, no hooks, no logging). Chorus is measured against this.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { loadScenario } from '../scenarios/index.ts';
import type { BackendPools } from '../scenarios/types.ts';
import { serverArgs } from './node-server.ts';

const args = serverArgs();
const scenario = loadScenario(args.scenario);
// 128 keep-alive connections per origin, as Chorus's http connector defaults to; pipelining off.
const poolOptions = { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 };
const pools: BackendPools = { static: new Pool(args.backends.static, poolOptions) };
if (args.backends.delay) pools.delay = new Pool(args.backends.delay, poolOptions);
if (!scenario.handwritten) throw new Error(`scenario ${scenario.ref.name} has no hand-written handler`);
const server = createServer({ keepAliveTimeout: 30_000 }, scenario.handwritten(pools));
server.listen(args.port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
