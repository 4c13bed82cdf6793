#!/usr/bin/env node
// The `chorus` command. Runs the TypeScript sources directly (Node >= 22.18 strips types); a
// published package runs the compiled dist/ instead.
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';

// The module compile cache first, before any TypeScript source is imported: with it, Node's type
// stripper (a WebAssembly module of ~20 MB resident) is not even loaded from the second start on
// (src/cli/runtime-flags.ts, enableModuleCache). Node before 22.1 has none.
try {
  enableCompileCache?.();
} catch {}

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (process.argv[2] === 'start') {
  // A serving process gets Chorus's V8 heap flags (src/cli/runtime-flags.ts): re-executes itself once.
  const flags = new URL('../dist/cli/runtime-flags.js', import.meta.url);
  const { applyRuntimeFlags } = await import(existsSync(flags) ? flags.href : '../src/cli/runtime-flags.ts');
  applyRuntimeFlags();
}
const { main } = await import(existsSync(compiled) ? compiled.href : '../src/cli/main.ts');
const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
