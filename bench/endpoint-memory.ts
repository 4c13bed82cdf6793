/**
 * Heap retained per endpoint, by phase (issue 15: "route table memory per endpoint measured"):
 * loads, compiles and starts (port 0, no backend called) a config of N passthrough endpoints in
 * this process and prints the time and the heap each phase keeps after a full GC, and the heap
 * per endpoint over an empty-ish config of 10. Needs --expose-gc; a heap snapshot on request.
 *
 *   node --expose-gc bench/endpoint-memory.ts [N=5000] [snapshot.heapsnapshot]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { stringify } from 'yaml';
import { compilePlan } from '../src/gateway.ts';
import { loadConfig } from '../src/modules.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startGateway } from '../src/server/server.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const count = Number(process.argv[2] ?? 5000);
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

function writeConfig(dir: string, n: number): string {
  const file = path.join(dir, `endpoints-${n}.yaml`);
  const config = {
    services: {
      backend: {
        kind: 'http',
        url: 'http://127.0.0.1:9',
        operations: { item: { method: 'GET', path: '/item' } },
      },
    },
    endpoints: Array.from({ length: n }, (_, i) => ({
      method: 'GET',
      path: `/e/${i}`,
      flow: [{ id: 'item', call: 'backend.item' }],
      response: { body: '{{ steps.item }}' },
    })),
  };
  writeFileSync(file, stringify(config));
  return file;
}

/** Heap used after a full GC, and the time since `from`. */
function mark(from: number): { heap: number; ms: number } {
  const ms = performance.now() - from;
  gc!();
  return { heap: process.memoryUsage().heapUsed, ms };
}

async function measure(file: string, snapshot?: string) {
  const logger = createLogger({ level: 'warn' });
  const start = mark(performance.now());
  let t = performance.now();
  let loaded: Awaited<ReturnType<typeof loadConfig>> | undefined = await loadConfig(file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues.slice(0, 3)));
  const afterLoad = mark(t);
  t = performance.now();
  const compiled = await compilePlan(loaded.loaded, logger);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues.slice(0, 3)));
  loaded = undefined; // as chorus start: only the plan stays
  const afterCompile = mark(t);
  t = performance.now();
  const gateway = await startGateway(compiled.plan, { logger, port: 0 });
  const afterStart = mark(t);
  if (snapshot) v8.writeHeapSnapshot(snapshot);
  await gateway.close();
  return {
    load: { ms: afterLoad.ms, heap: afterLoad.heap - start.heap },
    compile: { ms: afterCompile.ms, heap: afterCompile.heap - afterLoad.heap },
    start: { ms: afterStart.ms, heap: afterStart.heap - afterCompile.heap },
    total: afterStart.heap - start.heap,
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'chorus-endpoint-memory-'));
try {
  const small = await measure(writeConfig(dir, 10));
  const large = await measure(writeConfig(dir, count), process.argv[3]);
  for (const [name, r] of [
    ['10', small],
    [String(count), large],
  ] as const) {
    process.stdout.write(
      `${name.padStart(6)} endpoints: load ${r.load.ms.toFixed(0)} ms +${mb(r.load.heap)} MB | compile ${r.compile.ms.toFixed(0)} ms +${mb(r.compile.heap)} MB | start ${r.start.ms.toFixed(0)} ms +${mb(r.start.heap)} MB | retained ${mb(r.total)} MB\n`,
    );
  }
  const per = (large.total - small.total) / (count - 10) / 1024;
  process.stdout.write(`heap retained per endpoint: ${per.toFixed(1)} KB\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
