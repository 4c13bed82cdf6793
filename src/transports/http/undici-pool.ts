/**
 * undici's Pool without the rest of undici. `import { Pool } from 'undici'` runs undici's index.js,
 * which loads all of it — fetch, WebSocket, EventSource, the cache stores — and, through the
 * cookie module's brand check on `globalThis.Headers`, Node's own bundled copy of undici as well:
 * ~5.7 MB of heap in a gateway that only dispatches on pools (a one-service gateway idled at
 * 94 MB RSS with it, see docs/performance.md, "Memory"). These are the files index.js itself
 * builds Pool from — the same module instances, so the same classes when something else loads
 * 'undici' — with the request API mixed into Dispatcher.prototype exactly as index.js does
 * (Pool#request is used by the health checks and `chorus test`'s stand-in).
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);
const dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(dispatcher.prototype, require('undici/lib/api/index.js') as object);

/** undici's Pool class (undici/lib/dispatcher/pool.js). */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
/** An undici Pool. */
export type Pool = Undici.Pool;
/** The options of `new Pool(origin, options)`. */
export type PoolOptions = Undici.Pool.Options;
