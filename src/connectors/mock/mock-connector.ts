/**
 * The `mock` connector: a service whose operations answer from templates (over the call's
 * input) or files, after a set latency, failing a set share of calls. An API can be designed,
 * shown in the portal and tried before its backends exist; a flow switches to it by
 * environment (`call: "ratings-${env.RATINGS_TRANSPORT}.get"` with a `ratings-mock` service).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import {
  cancellation,
  type OperationExtras,
  timeoutError,
  unknownOperation,
} from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { type CompiledTemplate, compileTemplate, type TemplateIssue } from '../../expressions/template.ts';
import { callLimit } from '../../transports/call-limit.ts';
import { literalTemplateSchema } from '../../types/json-type.ts';
import type { MockOperationConfig, MockServiceConfig } from './schema.ts';

/** In an answer template, `request` is the call's input. */
const ANSWER_SCOPE: ReadonlySet<string> = new Set(['request']);

interface MockOperation {
  readonly answer: CompiledTemplate;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly failureRate: number;
  readonly extras: OperationExtras;
}

/** Creates the connector of one `mock` service, or the issues of its answers (a bad template, a missing file). */
export async function createMockConnector(
  config: MockServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const operations = new Map<string, MockOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, op] of Object.entries(config.operations)) {
    const at = ['operations', name];
    const template = answerTemplate(op, ctx.baseDir, at, issues);
    const templateIssues: TemplateIssue[] = [];
    const answer = compileTemplate(template, ANSWER_SCOPE, templateIssues);
    for (const issue of templateIssues) {
      issues.push({ path: [...at, 'answer', ...issue.path], message: issue.message });
    }
    operations.set(name, {
      answer,
      latencyMs: op.latency ?? 0,
      jitterMs: op.jitter ?? 0,
      failureRate: op.failureRate,
      extras: { service: ctx.service, operation: name },
    });
    descriptions.push({
      name,
      ...(op.summary === undefined ? {} : { summary: op.summary }),
      requiredParams: [],
      idempotent: op.idempotent,
      mock: true,
      // The answer's shape from its literal parts: flows reading it are type-checked at load.
      outputSchema: literalTemplateSchema(template),
    });
  }
  if (issues.length > 0) return { issues };
  return new MockConnector(ctx.service, operations, descriptions);
}

/** The answer's template: `answer`, or the content of `file` (JSON or YAML). */
function answerTemplate(
  op: MockOperationConfig,
  baseDir: string,
  at: string[],
  issues: ConnectorIssue[],
): unknown {
  if (op.file !== undefined && op.answer !== undefined) {
    issues.push({ path: [...at, 'file'], message: 'give answer or file, not both' });
    return null;
  }
  if (op.file === undefined) return op.answer ?? null;
  try {
    const text = readFileSync(path.resolve(baseDir, op.file), 'utf8');
    return /\.json$/i.test(op.file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    issues.push({
      path: [...at, 'file'],
      message: `cannot read the answer file "${op.file}": ${(error as Error).message}`,
    });
    return null;
  }
}

/** A live `mock` connector. */
class MockConnector implements Connector {
  readonly kind = 'mock';
  readonly service: string;
  readonly #operations: ReadonlyMap<string, MockOperation>;
  readonly #descriptions: readonly OperationDescription[];

  constructor(
    service: string,
    operations: ReadonlyMap<string, MockOperation>,
    descriptions: readonly OperationDescription[],
  ) {
    this.service = service;
    this.#operations = operations;
    this.#descriptions = descriptions;
  }

  async call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) throw unknownOperation(this.service, call.operation);
    const limitMs = callLimit(call, op.extras);
    const latency = op.latencyMs + (op.jitterMs > 0 ? Math.random() * op.jitterMs : 0);
    if (latency > 0) await wait(latency, limitMs, call, op.extras);
    if (op.failureRate > 0 && Math.random() < op.failureRate) {
      throw new ChorusError(
        'CHORUS_UPSTREAM_UNAVAILABLE',
        `service "${this.service}" operation "${call.operation}" is unavailable (a mock failure, failureRate ${op.failureRate})`,
        { retryable: true, extras: op.extras },
      );
    }
    return { output: op.answer.evaluate({ request: call.input }) };
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Waits the latency, unless the call's time limit or its signal ends it first. */
function wait(ms: number, limitMs: number, call: ConnectorCall, extras: OperationExtras): Promise<void> {
  return new Promise((resolve, reject) => {
    const signal = call.signal;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancellation(extras, signal));
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        if (ms > limitMs) reject(timeoutError(extras, limitMs, call.deadlineBound, undefined));
        else resolve();
      },
      Math.min(ms, limitMs),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
