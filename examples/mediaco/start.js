// `npm start`'s entry: turns on Node's module compile cache before any TypeScript is imported (as
// bin/chorus.js does; from the second start on, Node's ~20 MB type stripper is not loaded), then
// runs start.ts.
import { enableCompileCache } from 'node:module';

try {
  enableCompileCache?.();
} catch {}
await import('./start.ts');
