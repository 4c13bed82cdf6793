#!/usr/bin/env node
/** The `chorus` command: start, validate, openapi, schema. */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { ConfigIssue } from '../config/issues.ts';
import type { Gateway } from '../server/server.ts';
import type { Reloader } from './reload.ts';
import { applyRuntimeFlags } from './runtime-flags.ts';

// Modules are imported by the command that needs them: `chorus --help` should not load a gateway.

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const HELP: Record<string, string> = {
  main: `chorus ${VERSION} — API orchestration gateway

Usage:
  chorus start <config> [--port N] [--host H] [--watch]         serve the API a config declares
  chorus validate <config> [--format json] [--strict]           check a config; lists every problem
  chorus openapi <config>                                       print the OpenAPI 3.1 document
  chorus schema                                                 print the config JSON Schema
  chorus test [config] [tests…]                                 run flow tests with declared backends (docs/testing.md)
  chorus record <config> <METHOD> <path>                        write a test from a request to the real backends
  chorus dev [config]                                           serve with reload on save, traces, pretty logs

A config is YAML, JSON, or a TypeScript module exporting defineConfig({...}).
Run "chorus <command> --help" for a command's options.`,
  start: `Usage: chorus start <config> [options]

Serves the API declared in <config>.

Options:
  --port N         port to listen on (default: $PORT, else server.port in the config, else 8080)
  --host H         address to listen on (default: $HOST, else server.host, else 127.0.0.1)
  --log-level L    fatal, error, warn, info (default), debug, trace, silent
  --workers N      run N gateway processes sharing the port (default 1); /metrics counts them all
  --watch          reload the config when its file changes
  -h, --help       show this help

Stops gracefully on SIGTERM or SIGINT: /readyz turns 503 and every answer carries
connection: close at once; after server.drainDelay (default 0s) the listener stops accepting,
idle connections are closed, and in-flight requests finish within server.shutdownGrace.
Reloads the config on SIGHUP, on POST <admin.path>/reload (with the admin credential) and, with
--watch, when the file changes: in-flight requests finish on the old one; a config with problems
is logged (and answered, 422) and the old one keeps serving. (host, port and timeouts of the
listener stay as started.)`,
  validate: `Usage: chorus validate <config> [options]

Loads and compiles <config> without serving it. Prints "file:line:col message" for every problem
(schema problems and the compiler's together, in one pass) and exits 1, or prints a summary and
exits 0.

Options:
  --format F       text (default) or json: {"valid", "problems": [{file, line, col, path, message, severity}]}
  --strict         also warn where an expression reads a field whose type is unknown (dyn); exit 1 on warnings
  -h, --help       show this help`,
  openapi: `Usage: chorus openapi <config> [--server-url URL]

Prints the OpenAPI 3.1 document of the API declared in <config> as JSON.`,
  schema: `Usage: chorus schema

Prints the JSON Schema of the config format (the same as schema/chorus.schema.json).`,
};

/** Runs the CLI with the given arguments; resolves to the exit code (start resolves when serving). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${HELP.main}\n`);
    return command === undefined ? 1 : 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // The testing commands parse their own options (src/cli/test-runner/).
  if (command === 'test') return (await import('./test-runner/test-command.ts')).testCommand(rest);
  if (command === 'record') return (await import('./test-runner/record-command.ts')).recordCommand(rest);
  if (command === 'dev') return (await import('./dev/dev-command.ts')).devCommand(rest);
  if (!(command in HELP) || command === 'main') {
    process.stderr.write(`chorus: unknown command "${command}"\n\n${HELP.main}\n`);
    return 1;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'log-level': { type: 'string' },
        workers: { type: 'string' },
        watch: { type: 'boolean' },
        'server-url': { type: 'string' },
        format: { type: 'string' },
        strict: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`chorus ${command}: ${(error as Error).message}\n\n${HELP[command]}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP[command]}\n`);
    return 0;
  }
  if (command === 'schema') {
    const { configJsonSchema } = await import('../modules.ts');
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  }
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write(`chorus ${command}: missing <config>\n\n${HELP[command]}\n`);
    return 1;
  }
  if (command === 'start') {
    return start(file, values as StartOptionValues);
  }
  if (command === 'validate') {
    const { validateCommand } = await import('./validate.ts');
    return validateCommand(file, {
      format: values.format as string | undefined,
      strict: values.strict === true,
    });
  }
  const { loadConfig } = await import('../modules.ts');
  const loaded = await loadConfig(file);
  if (!loaded.ok) return reportIssues(loaded.issues);
  const [{ compilePlan }, { pino }] = await Promise.all([import('../gateway.ts'), import('pino')]);
  const compiled = await compilePlan(loaded.loaded, pino({ level: 'silent' }));
  if (!compiled.ok) return reportIssues(compiled.issues);
  const { config } = compiled.plan;
  await compiled.plan.close();
  if (command === 'openapi') {
    const { openApiDocument } = await import('../modules.ts');
    const serverUrl = values['server-url'];
    const doc = openApiDocument(config, typeof serverUrl === 'string' ? { serverUrl } : {});
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }

  const steps = config.endpoints.reduce((sum, endpoint) => sum + endpoint.flow.length, 0);
  process.stdout.write(
    `${file}: valid — ${Object.keys(config.services).length} services, ${config.endpoints.length} endpoints, ${steps} steps\n`,
  );
  return 0;
}

async function reportIssues(issues: ConfigIssue[]): Promise<number> {
  const { formatIssue, sortIssues } = await import('../config/issues.ts');
  for (const issue of sortIssues(issues)) process.stderr.write(`${formatIssue(issue)}\n`);
  process.stderr.write(`${issues.length} problem${issues.length === 1 ? '' : 's'} found\n`);
  return 1;
}

type StartOptionValues = {
  port?: string;
  host?: string;
  'log-level'?: string;
  workers?: string;
  watch?: boolean;
};

async function start(file: string, options: StartOptionValues): Promise<number> {
  if (options.workers !== undefined) {
    const workers = Number(options.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
      process.stderr.write(
        `chorus start: --workers must be a number from 1 to 256, got "${options.workers}"\n`,
      );
      return 1;
    }
    const cluster = (await import('node:cluster')).default;
    if (workers > 1 && cluster.isPrimary) return superviseWorkers(workers);
  }
  const level = options['log-level'];
  if (level !== undefined && !LOG_LEVELS.includes(level)) {
    process.stderr.write(
      `chorus start: --log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"\n`,
    );
    return 1;
  }
  // The flag wins over the environment (PORT and HOST, as a container platform sets them).
  const portText = options.port ?? nonEmpty(process.env.PORT);
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    const from = options.port === undefined ? 'PORT' : '--port';
    process.stderr.write(`chorus start: ${from} must be a number from 0 to 65535, got "${portText}"\n`);
    return 1;
  }
  const host = options.host ?? nonEmpty(process.env.HOST);
  return serve(file, host === undefined ? options : { ...options, host }, port);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Loads, compiles and serves the config; stops on SIGTERM/SIGINT, reloads on SIGHUP. */
async function serve(file: string, options: StartOptionValues, port: number | undefined): Promise<number> {
  const [{ createLogger }, { loadConfig }, { compilePlan }, { startGateway }, { createReloader }] =
    await Promise.all([
      import('../observability/logger.ts'),
      import('../modules.ts'),
      import('../gateway.ts'),
      import('../server/server.ts'),
      import('./reload.ts'),
    ]);
  const logger = createLogger(options['log-level'] === undefined ? {} : { level: options['log-level'] });
  const loaded = await loadConfig(file);
  if (!loaded.ok) return reportIssues(loaded.issues);
  const compiled = await compilePlan(loaded.loaded, logger);
  if (!compiled.ok) return reportIssues(compiled.issues);
  let gateway: Gateway | undefined;
  const reloader = createReloader(file, logger, () => gateway);
  try {
    gateway = await startGateway(compiled.plan, {
      logger,
      reload: () => reloader.reload('POST /admin/reload'),
      ...(port === undefined ? {} : { port }),
      ...(options.host === undefined ? {} : { host: options.host }),
    });
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? 'the port is in use (try --port)'
        : (error as Error).message;
    process.stderr.write(`chorus start: cannot listen: ${reason}\n`);
    await compiled.plan.close();
    return 1;
  }
  // Handlers first: until process.on('SIGTERM') the kernel's default kills the process, and whoever
  // waits for the line below (a test, a process manager) may signal at once.
  handleSignals(gateway, reloader, logger);
  if (options.watch) reloader.watch();
  logger.info(
    {
      url: gateway.url,
      ...(gateway.adminUrl === undefined ? {} : { adminUrl: gateway.adminUrl }),
      endpoints: compiled.plan.endpoints.length,
      services: compiled.plan.connectors.size,
    },
    `chorus listening on ${gateway.url}`,
  );
  return 0;
}

/** SIGTERM and SIGINT drain and stop; SIGHUP reloads the config (only a clean one is swapped in). */
function handleSignals(gateway: Gateway, reloader: Reloader, logger: Logger): void {
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    gateway.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGHUP', () => void reloader.reload('SIGHUP'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/**
 * Runs N gateway processes sharing one port (node:cluster): signals are passed on, so SIGTERM
 * drains every worker and SIGHUP reloads each. A worker that dies unexpectedly is replaced.
 */
async function superviseWorkers(count: number): Promise<number> {
  const [cluster, { aggregateWorkerMetrics }, { CLUSTERED_ENV, relayGathers }] = await Promise.all([
    import('node:cluster').then((module) => module.default),
    import('../observability/cluster-metrics.ts'),
    import('../observability/cluster-gather.ts'),
  ]);
  let stopping = false;
  // /metrics and /admin/traces of any worker show every worker's (observability/cluster-*.ts).
  aggregateWorkerMetrics();
  relayGathers();
  const fork = (): void => {
    cluster.fork({ [CLUSTERED_ENV]: '1' });
  };
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(
      `chorus: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    );
    setTimeout(fork, 500);
  });
  const forward = (signal: NodeJS.Signals): void => {
    if (signal !== 'SIGHUP') stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGHUP', () => forward('SIGHUP'));
  return 0;
}

// import.meta.main exists from Node 22.18/24.2; the argv check covers older 22.x running dist/.
const isMain =
  import.meta.main ??
  (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url);
if (isMain) {
  if (process.argv[2] === 'start') applyRuntimeFlags();
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`chorus: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
