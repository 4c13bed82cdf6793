/**
 * The request-time body of a call step: what is left of the request's deadline, the call's
 * timeout (`min(step or service timeout, time left)`, and whether the deadline bounds it), the
 * call through the service's upstream stack, backend-call metrics, and the output the flow
 * stores. Everything it can decide is decided when it is built, at load.
 */
import type { ConnectorResult } from '../contracts/connector.ts';
import type { UpstreamHandler } from '../contracts/policy.ts';
import { ChorusError } from '../errors/catalogue.ts';
import type { CompiledTemplate } from '../expressions/template.ts';
import { RawJson } from '../json/raw.ts';
import { backendCallMetrics } from '../observability/metrics.ts';
import type { StepBody } from './compile-context.ts';
import type { FlowContext } from './plan.ts';

/** A call step, compiled up to its body. */
export interface CallStepSpec {
  readonly stepId: string;
  readonly service: string;
  readonly operation: string;
  /** The call's input (params, query, headers, body), evaluated per call. */
  readonly input: CompiledTemplate;
  /** The step's timeout, else the service's. */
  readonly timeoutMs: number;
  /** The service's calls, wrapped in its upstream policies. */
  readonly invoke: UpstreamHandler;
}

/** Builds a call step's body; `raw`: its answer is only forwarded, so it may stay undecoded. */
export function createCallStep(spec: CallStepSpec, raw: boolean): StepBody {
  const call = createServiceCall(spec, raw);
  const input = spec.input;
  return (scope, flowCtx: FlowContext) =>
    call(input.evaluate(scope) as Record<string, unknown>, flowCtx).then(outputOf);
}

/** One call of a step's operation with a given input: the deadline arithmetic, the call, its metrics. */
export type ServiceCall = (input: Record<string, unknown>, flowCtx: FlowContext) => Promise<ConnectorResult>;

/** Builds the call of a step's operation (what a plain, repeating or batch step calls once per call). */
export function createServiceCall(spec: CallStepSpec, raw: boolean): ServiceCall {
  const { stepId, service, operation, invoke } = spec;
  const stepTimeoutMs = spec.timeoutMs;
  // Backend-call metrics with their label children bound once, here.
  const metrics = backendCallMetrics(service, operation);
  const succeeded = (result: ConnectorResult, began: number): ConnectorResult => {
    metrics.ok((performance.now() - began) / 1000);
    return result;
  };
  const failed = (error: unknown, began: number): never => {
    metrics.failed(
      (performance.now() - began) / 1000,
      error instanceof ChorusError ? error.code : 'CHORUS_INTERNAL',
    );
    throw error;
  };
  return (input, flowCtx) => {
    const remaining = flowCtx.deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(
        new ChorusError(
          'CHORUS_DEADLINE_EXCEEDED',
          `the request deadline passed before step "${stepId}" could call ${service}`,
          {
            extras: { service, operation },
          },
        ),
      );
    }
    const deadlineBound = remaining <= stepTimeoutMs;
    const began = performance.now();
    return invoke(
      {
        operation,
        input,
        headers: flowCtx.propagate,
        signal: flowCtx.controller.signal,
        timeoutMs: deadlineBound ? remaining : stepTimeoutMs,
        deadlineBound,
        deadline: flowCtx.deadline,
        raw,
      },
      flowCtx,
    ).then(
      (result) => succeeded(result, began),
      (error: unknown) => failed(error, began),
    );
  };
}

/** What the flow stores for a call: the decoded output, or the forwarded bytes. */
export function outputOf(result: ConnectorResult): unknown {
  return result.raw === undefined ? result.output : new RawJson(result.raw);
}
