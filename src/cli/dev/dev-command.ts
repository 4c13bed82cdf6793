/**
 * `chorus dev [config]`: serves a config for development. The config's folder is watched; on
 * each save the config is loaded and compiled again and swapped in (the path SIGHUP takes in
 * `chorus start`), or its problems are printed at file:line:col while the previous config keeps
 * serving. The portal's request traces are on (with a one-time admin token when the config sets
 * none) and log lines are printed for a person.
 */
import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { formatIssue, sortIssues } from '../../config/issues.ts';
import { type CompileResult, compilePlan } from '../../gateway.ts';
import { loadConfig } from '../../modules.ts';
import { createLogger } from '../../observability/logger.ts';
import { type Gateway, startGateway } from '../../server/server.ts';
import { prettyLogStream } from './pretty-log.ts';

export const DEV_HELP = `Usage: chorus dev [config] [options]

Serves <config> (default: gateway.yaml) for development: reloads it on every save in its folder,
prints problems at file:line:col without stopping the server, keeps request traces for the portal
and prints log lines for a person.

Options:
  --port N         port to listen on (default: server.port in the config, else 8080)
  --host H         address to listen on (default: server.host, else 127.0.0.1)
  --log-level L    fatal, error, warn, info (default), debug, trace
  -h, --help       show this help`;

/** The files whose saves reload the config (not logs or editors' temporary files). */
const CONFIG_FILES = /\.(ya?ml|json|[cm]?[jt]s|wsdl|xsd|proto|graphql|gql|xml)$/;

/** How long saves are gathered before one reload (editors write a file in several steps). */
const SETTLE_MS = 150;

/** Runs the command; resolves once serving (0) or on a config that cannot start (1). */
export async function devCommand(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    process.stderr.write(`chorus dev: ${(error as Error).message}\n\n${DEV_HELP}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${DEV_HELP}\n`);
    return 0;
  }
  const file = path.resolve(positionals[0] ?? 'gateway.yaml');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`chorus dev: --port must be a number from 0 to 65535, got "${values.port}"\n`);
    return 1;
  }
  const logger = createLogger({
    level: values['log-level'] ?? 'info',
    destination: prettyLogStream(process.stdout, process.stdout.isTTY === true),
  });
  // Traces are kept only for someone who can read them: a token for this session when the config has none.
  const devToken = randomBytes(18).toString('base64url');
  const first = await compile(file, logger, devToken);
  if (!first.ok) return 1;
  let gateway: Gateway;
  try {
    gateway = await startGateway(first.plan, {
      logger,
      ...(port === undefined ? {} : { port }),
      ...(values.host === undefined ? {} : { host: values.host }),
    });
  } catch (error) {
    process.stderr.write(`chorus dev: cannot listen: ${(error as Error).message}\n`);
    await first.plan.close();
    return 1;
  }
  const watcher = watchConfig(file, () => void reload(gateway, file, logger, devToken));
  const stop = (): void => {
    watcher.close();
    void gateway.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const token =
    first.plan.config.admin.credential === devToken ? `  (admin token for traces: ${devToken})` : '';
  process.stdout.write(
    `chorus dev: serving ${path.relative(process.cwd(), file) || file} on ${gateway.url}\n` +
      `  portal: ${gateway.url}/portal${token}\n  watching ${path.dirname(file)} for changes; Ctrl-C stops\n`,
  );
  return 0;
}

function parseOptions(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Loads and compiles the config; prints its problems at file:line:col. */
async function compile(file: string, logger: Logger, devToken: string): Promise<CompileResult> {
  const loaded = await loadConfig(file);
  if (loaded.ok) {
    const admin = loaded.loaded.config.admin;
    if (admin.credential === undefined) admin.credential = devToken;
  }
  const compiled = loaded.ok ? await compilePlan(loaded.loaded, logger) : loaded;
  if (!compiled.ok) {
    for (const issue of sortIssues(compiled.issues)) process.stderr.write(`${formatIssue(issue)}\n`);
    const count = compiled.issues.length;
    process.stderr.write(`${count} problem${count === 1 ? '' : 's'} found\n`);
  }
  return compiled;
}

async function reload(gateway: Gateway, file: string, logger: Logger, devToken: string): Promise<void> {
  const compiled = await compile(file, logger, devToken);
  if (!compiled.ok) {
    process.stderr.write('chorus dev: still serving the previous config\n');
    return;
  }
  gateway.reload(compiled.plan);
  process.stdout.write(`chorus dev: reloaded (${compiled.plan.endpoints.length} endpoints)\n`);
}

/** Calls `changed` once saves of config files in the config's folder settle (node_modules and dot folders ignored). */
function watchConfig(file: string, changed: () => void): FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  return watch(path.dirname(file), { recursive: true }, (_event, name) => {
    const changedName = String(name ?? '');
    if (changedName.split(path.sep).some((part) => part.startsWith('.') || part === 'node_modules')) return;
    // Only files a config reads (itself, code steps, WSDL/XSD, .proto, GraphQL documents, answer files).
    if (!CONFIG_FILES.test(changedName)) return;
    clearTimeout(timer);
    timer = setTimeout(changed, SETTLE_MS);
  });
}
