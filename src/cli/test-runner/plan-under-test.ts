/**
 * One test's gateway: the config loaded with the test's environment, compiled with the
 * transports' stand-ins, each connector's calls recorded and given their declared answer, and
 * served on a loopback port so requests go through the whole request path as a client's do.
 */
import path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { pino } from 'pino';
import type { ConfigIssue } from '../../config/issues.ts';
import type { GrpcServiceConfig } from '../../connectors/grpc/schema.ts';
import type { Connector, ConnectorCall } from '../../contracts/connector.ts';
import { compilePlan } from '../../gateway.ts';
import { loadConfig, type ResolvedConfig } from '../../modules.ts';
import { type Gateway, startGateway } from '../../server/server.ts';
import { currentCall } from './current-call.ts';
import { schemasByEndpoint } from './graphql-schemas.ts';
import { contains } from './match.ts';
import { createStandIn } from './stand-in.ts';
import type { DeclaredAnswer, DeclaredBackends } from './test-file.ts';

/** One call a connector was asked to make. */
export interface RecordedCall {
  readonly service: string;
  readonly operation: string;
  readonly input: unknown;
  /** Whether a declared answer matched it. */
  readonly answered: boolean;
}

/** A served plan under test. */
export interface PlanUnderTest {
  readonly url: string;
  readonly config: ResolvedConfig;
  /** The calls made since the last take. */
  takeCalls(): RecordedCall[];
  /**
   * Calls a service's operation once with `answer`, past its policies, and resolves to the
   * error its connector raised reading it (a SOAP output its WSDL does not allow), or undefined.
   */
  probe(service: string, operation: string, answer: DeclaredAnswer): Promise<unknown>;
  /** The operations a service has (undefined: no such service). */
  operations(service: string): readonly string[] | undefined;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

/** Loads and compiles the config with `env`; returns the plan's issues, or the served plan. */
export async function openPlanUnderTest(
  configFile: string,
  env: Record<string, string>,
  backends: DeclaredBackends,
  graphqlSchemas: ReadonlyMap<string, GraphQLSchema> = new Map(),
): Promise<PlanUnderTest | { issues: ConfigIssue[] }> {
  const fullEnv = { ...process.env, ...env };
  const loaded = await loadConfig(configFile, { env: fullEnv });
  if (!loaded.ok) return { issues: loaded.issues };
  const config = loaded.loaded.config;
  const standIn = createStandIn({
    baseDir: loaded.loaded.baseDir,
    graphqlSchemas: schemasByEndpoint(config.services, graphqlSchemas),
    grpcServices: (name) => {
      const service = config.services[name];
      return service?.kind === 'grpc' ? (service as GrpcServiceConfig) : undefined;
    },
  });
  // The flows' `env` is a snapshot of the process environment taken while compiling.
  const compiled = await withEnv(env, () => compilePlan(loaded.loaded, silent, standIn));
  if (!compiled.ok) return { issues: compiled.issues };
  const plan = compiled.plan;
  const calls: RecordedCall[] = [];
  const originals = new Map<string, Connector['call']>();
  for (const [name, connector] of plan.connectors) {
    originals.set(name, connector.call.bind(connector));
    answerFromDeclared(connector, name, backends[name] ?? {}, calls);
  }
  const probe = async (service: string, operation: string, answer: DeclaredAnswer): Promise<unknown> => {
    const call = originals.get(service);
    const kind = plan.connectors.get(service)?.kind ?? '';
    if (call === undefined) return undefined;
    const request: ConnectorCall = {
      operation,
      input: {},
      headers: {},
      signal: new AbortController().signal,
      timeoutMs: 5_000,
      deadlineBound: false,
    };
    try {
      await currentCall.run({ service, kind, operation, answer }, () =>
        call(request, { requestId: 'probe', logger: silent }),
      );
      return undefined;
    } catch (error) {
      return error;
    }
  };
  let gateway: Gateway;
  try {
    gateway = await startGateway(plan, { logger: silent, port: 0, host: '127.0.0.1' });
  } catch (error) {
    await plan.close();
    throw error;
  }
  return {
    url: gateway.url,
    config,
    takeCalls: () => calls.splice(0),
    probe,
    operations: (service) =>
      plan.connectors
        .get(service)
        ?.describe()
        .map((op) => op.name),
    close: () => gateway.close(),
  };
}

/**
 * Wraps one connector's call: the call is recorded, the first declared answer whose `input`
 * the call's input contains is chosen, and the connector runs as always with the stand-in
 * answering its transport. Only plans under test are wrapped.
 */
function answerFromDeclared(
  connector: Connector,
  service: string,
  operations: Record<string, DeclaredAnswer | DeclaredAnswer[]>,
  calls: RecordedCall[],
): void {
  const call = connector.call.bind(connector);
  const kind = connector.kind;
  (connector as { call: Connector['call'] }).call = (request: ConnectorCall, ctx) => {
    const declared = operations[request.operation];
    const list = declared === undefined ? [] : Array.isArray(declared) ? declared : [declared];
    const answer = list.find(
      (candidate) => candidate.input === undefined || contains(candidate.input, request.input),
    );
    calls.push({
      service,
      operation: request.operation,
      input: request.input,
      // A mock service has no backend to stand in for: its own answers are the declared ones.
      answered: answer !== undefined || kind === 'mock',
    });
    return currentCall.run({ service, kind, operation: request.operation, answer }, () => call(request, ctx));
  };
}

async function withEnv<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The config a test file names, relative to the file; else the one given on the command line. */
export function configOf(
  testFile: string,
  named: string | undefined,
  fallback: string | undefined,
): string | undefined {
  if (named !== undefined) return path.resolve(path.dirname(testFile), named);
  return fallback;
}
