/**
 * Runs the tests of one file: each test gets its own gateway (fresh caches, limits and
 * breakers), its requests go over loopback, and what comes back is compared with what it
 * expects. Declared SOAP and gRPC answers are first read by their connectors, so an answer its
 * WSDL or proto does not allow is a load problem at the answer's position.
 */
import { existsSync } from 'node:fs';
import type { ConfigIssue, Locate } from '../../config/issues.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { checkExchange, type ExchangeOutcome, sendRequest } from './exchange.ts';
import { readGraphqlSchemas } from './graphql-schemas.ts';
import { matcherProblem } from './match.ts';
import { configOf, openPlanUnderTest, type PlanUnderTest } from './plan-under-test.ts';
import type { DeclaredAnswer, DeclaredBackends, TestCase, TestFile } from './test-file.ts';

/** The outcome of one test. */
export interface TestResult {
  readonly file: string;
  readonly name: string;
  readonly index: number;
  readonly passed: boolean;
  readonly failures: readonly string[];
  readonly ms: number;
  /** Each exchange's actual answer, for --update. */
  readonly outcomes: readonly ExchangeOutcome[];
}

/** A loaded test file, ready to run. */
export interface LoadedTestFile {
  readonly file: string;
  readonly tests: TestFile;
  readonly locate: Locate;
}

type Prepared = { test: TestCase; index: number; plan: PlanUnderTest };

/** Runs the tests of a file whose name passes `filter`; issues if a test's gateway or answers cannot load. */
export async function runTestFile(
  loaded: LoadedTestFile,
  fallbackConfig: string | undefined,
  filter: (name: string) => boolean,
): Promise<{ results: TestResult[] } | { issues: ConfigIssue[] }> {
  const { file, tests } = loaded;
  const configFile = configOf(file, tests.config, fallbackConfig);
  if (configFile !== undefined && tests.config !== undefined && !existsSync(configFile)) {
    return {
      issues: [located(loaded, ['config'], `config: no file "${tests.config}" beside this test file`)],
    };
  }
  if (configFile === undefined) {
    return {
      issues: [
        {
          file,
          path: ['config'],
          message: 'name the gateway config: config: ../gateway.yaml, or chorus test <config> <tests>',
        },
      ],
    };
  }
  const prepared: Prepared[] = [];
  const { schemas, issues } = readGraphqlSchemas(file, tests.graphqlSchemas, (at, message) =>
    located(loaded, at, message),
  );
  if (issues.length > 0) return { issues };
  try {
    for (const [index, test] of tests.tests.entries()) {
      if (!filter(test.name)) continue;
      issues.push(...expectationIssues(loaded, test, index));
      const backends = mergeBackends(tests.backends, test.backends);
      const plan = await openPlanUnderTest(configFile, { ...tests.env, ...test.env }, backends, schemas);
      if ('issues' in plan) return { issues: plan.issues };
      prepared.push({ test, index, plan });
      issues.push(...(await answerIssues(loaded, plan, test, index)));
    }
    if (issues.length > 0) return { issues };
    const results: TestResult[] = [];
    for (const entry of prepared) results.push(await runTest(file, entry));
    return { results };
  } finally {
    await Promise.allSettled(prepared.map((entry) => entry.plan.close()));
  }
}

async function runTest(file: string, { test, index, plan }: Prepared): Promise<TestResult> {
  const started = performance.now();
  const failures: string[] = [];
  const outcomes: ExchangeOutcome[] = [];
  const exchanges = [{ request: test.request, expect: test.expect }, ...test.next];
  for (const [step, exchange] of exchanges.entries()) {
    const prefix =
      exchanges.length > 1
        ? `request ${step + 1} (${exchange.request.method} ${exchange.request.path}): `
        : '';
    try {
      const outcome = await sendRequest(plan.url, exchange.request);
      outcomes.push(outcome);
      for (const failure of checkExchange(exchange.expect, outcome, plan.takeCalls()))
        failures.push(prefix + failure);
    } catch (error) {
      failures.push(`${prefix}the request failed: ${(error as Error).message}`);
      break;
    }
  }
  const ms = Math.round(performance.now() - started);
  return { file, name: test.name, index, passed: failures.length === 0, failures, ms, outcomes };
}

/** The file's answers, then the test's (a test's answers for an operation replace the file's). */
function mergeBackends(shared: DeclaredBackends, own: DeclaredBackends): DeclaredBackends {
  const merged: DeclaredBackends = { ...shared };
  for (const [service, operations] of Object.entries(own))
    merged[service] = { ...shared[service], ...operations };
  return merged;
}

/** Matchers that cannot work ($type of no type, a bad $regex), at their position. */
function expectationIssues(loaded: LoadedTestFile, test: TestCase, index: number): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const exchanges = [test.expect, ...test.next.map((entry) => entry.expect)];
  exchanges.forEach((expect, step) => {
    const at = step === 0 ? ['tests', index, 'expect'] : ['tests', index, 'next', step - 1, 'expect'];
    const problem = matcherProblem(expect);
    if (problem !== undefined) issues.push(located(loaded, at, problem));
  });
  return issues;
}

/** Every declared SOAP and gRPC answer read by its connector: one its WSDL or proto refuses is an issue. */
async function answerIssues(
  loaded: LoadedTestFile,
  plan: PlanUnderTest,
  test: TestCase,
  index: number,
): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  const sources: [DeclaredBackends, (string | number)[]][] = [
    [loaded.tests.backends, ['backends']],
    [test.backends, ['tests', index, 'backends']],
  ];
  for (const [backends, base] of sources) {
    for (const [service, operations] of Object.entries(backends)) {
      const kind = plan.config.services[service]?.kind;
      if (kind === undefined) {
        issues.push(located(loaded, [...base, service], `the config has no service "${service}"`, true));
        continue;
      }
      const known = plan.operations(service) ?? [];
      for (const [operation, declared] of Object.entries(operations)) {
        if (!known.includes(operation)) {
          const message = `service "${service}" has no operation "${operation}" (operations: ${known.join(', ')})`;
          issues.push(located(loaded, [...base, service, operation], message, true));
          continue;
        }
        const list: [DeclaredAnswer, (string | number)[]][] = Array.isArray(declared)
          ? declared.map((answer, at) => [answer, [...base, service, operation, at]])
          : [[declared, [...base, service, operation]]];
        for (const [answer, at] of list) {
          if (kind !== 'soap' && kind !== 'grpc') continue;
          const field = kind === 'soap' ? 'output' : 'message';
          if (answer[field] === undefined) continue;
          const problem = probeProblem(await plan.probe(service, operation, { ...answer, latency: 0 }));
          if (problem !== undefined) issues.push(located(loaded, [...at, field], problem));
        }
      }
    }
  }
  return issues;
}

/** What a probe's error says of a declared answer: its connector could not read it (WSDL types, proto). */
function probeProblem(error: unknown): string | undefined {
  if (!(error instanceof ChorusError)) return undefined;
  if (error.code === 'CHORUS_UPSTREAM_DECODE') return `the declared answer does not fit: ${error.message}`;
  // The gRPC stand-in ends a call whose message does not encode with INTERNAL.
  if (error.code === 'CHORUS_UPSTREAM_PROTOCOL' && /does not encode/.test(error.message)) {
    return `the declared message does not fit the proto: ${error.message}`;
  }
  return undefined;
}

function located(loaded: LoadedTestFile, at: (string | number)[], message: string, key = false): ConfigIssue {
  const position = loaded.locate(at, { key });
  const { file } = loaded;
  return position === undefined ? { file, path: at, message } : { file, path: at, message, position };
}
