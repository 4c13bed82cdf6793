import { pino } from 'pino';
import { compilePlan } from './src/gateway.ts';
import { loadConfig } from './src/modules.ts';
const loaded = await loadConfig('/tmp/ty/big.yaml');
if (!loaded.ok) throw new Error('x');
const t = performance.now();
const c = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
console.log('compile ms', Math.round(performance.now() - t), c.ok, process.memoryUsage().heapUsed / 1e6 | 0, 'MB');
if (c.ok) { const t2 = performance.now(); JSON.stringify(c.plan.openApi).length; console.log('openapi ms', Math.round(performance.now() - t2)); await c.plan.close(); }
