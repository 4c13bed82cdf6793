/**
 * The terminal handler of an endpoint, stages 6–10 of a request (docs/architecture.md): body
 * read, input validation, flow run, response, partial marker. Inbound policies (stage 5) wrap
 * it; the server sends what it returns (stage 11).
 */

import type { InboundContext, InboundHandler, Reply } from '../contracts/policy.ts';
import { ChorusError } from '../errors/catalogue.ts';
import { RawJson } from '../json/raw.ts';
import { runFlow } from './flow.ts';
import type { EndpointPlan, FlowContext, FlowScope } from './plan.ts';

/** What the handler needs besides the endpoint: the gateway-wide expression scope. */
export interface EndpointScope {
  env: Readonly<Record<string, string>>;
  vars: Readonly<Record<string, unknown>>;
}

/** Builds the handler that answers an endpoint's requests. */
export function createEndpointHandler(
  endpoint: Omit<EndpointPlan, 'handle'>,
  shared: EndpointScope,
): InboundHandler {
  return async (ctx: InboundContext): Promise<Reply> => {
    // 6 body read: only when some part of the endpoint reads it.
    const body = endpoint.readsBody ? await ctx.readBody() : undefined;
    const request = {
      method: endpoint.method,
      path: ctx.path,
      params: ctx.params,
      query: ctx.query,
      headers: ctx.headers,
      body,
      consumer: ctx.consumer,
      requestId: ctx.requestId,
      clientIp: ctx.clientIp,
    };
    // 7 input validation
    endpoint.validateInput(request);
    const scope: FlowScope = { request, steps: {}, env: shared.env, vars: shared.vars, warnings: [] };
    const flowCtx: FlowContext = {
      requestId: ctx.requestId,
      controller: ctx.controller,
      deadline: ctx.deadline,
      logger: ctx.logger,
      propagate: { 'x-request-id': ctx.requestId },
    };
    // Tracing on: the flow runner gives each call and code step a span, child of the request's.
    if (ctx.span !== undefined && ctx.tracer !== undefined) {
      flowCtx.span = ctx.span;
      flowCtx.tracer = ctx.tracer;
    }
    if (endpoint.sharesCalls) flowCtx.memo = new Map();
    const signal = ctx.controller.signal;
    // 8 flow run
    try {
      await runFlow(endpoint.flow, scope, flowCtx);
    } catch (error) {
      // When the request was cancelled, its reason (deadline, client gone) is the truth; a
      // deadline error from the flow is that reason with the steps it caught pending named.
      const named = error instanceof ChorusError && error.code === 'CHORUS_DEADLINE_EXCEEDED';
      throw signal.aborted && !named ? signal.reason : error;
    } finally {
      flowCtx.memo?.clear();
    }
    if (signal.aborted) throw signal.reason;
    // 9 response, 10 partial marker
    return buildReply(endpoint, scope);
  };
}

function buildReply(endpoint: Omit<EndpointPlan, 'handle'>, scope: FlowScope): Reply {
  let status: number;
  let headers: Record<string, string> | undefined;
  let body: unknown;
  try {
    const cases = endpoint.response.cases;
    let chosen = cases[cases.length - 1]!;
    for (const candidate of cases) {
      if (candidate.when === undefined || candidate.when.evaluate(scope) === true) {
        chosen = candidate;
        break;
      }
    }
    const rawStatus = chosen.status.evaluate(scope);
    status = typeof rawStatus === 'number' ? rawStatus : Number(rawStatus);
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new Error(`response status ${JSON.stringify(rawStatus)} is not an HTTP status`);
    }
    for (const header of chosen.headers) {
      headers ??= {};
      const value = header.value.evaluate(scope);
      if (value !== null && value !== undefined && value !== '') headers[header.name] = String(value);
    }
    body = chosen.body?.evaluate(scope);
  } catch (cause) {
    if (cause instanceof ChorusError) throw cause;
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new ChorusError('CHORUS_EXPRESSION_FAILED', `response: ${reason}`, { cause });
  }
  // A forwarded answer (or a forEach step's list of them) goes out as it came, unless warnings
  // must be added to it.
  const forwarded = scope.warnings.length === 0 ? forwardedBytes(body) : undefined;
  if (forwarded !== undefined) {
    return headers === undefined ? { status, payload: forwarded } : { status, headers, payload: forwarded };
  }
  if (body instanceof RawJson) body = body.toJSON();
  if (scope.warnings.length > 0) {
    // 10 partial marker: never silent, a header always and a warnings list in object bodies.
    headers ??= {};
    headers['chorus-partial'] = [...new Set(scope.warnings.map((w) => w.step))].join(',');
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && !('warnings' in body)) {
      body = { ...body, warnings: scope.warnings };
    }
  }
  return headers === undefined ? { status, body } : { status, headers, body };
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** The bytes of a forwarded answer, or of a list of them as one JSON array; undefined for any other value. */
function forwardedBytes(body: unknown): Buffer | undefined {
  if (body instanceof RawJson) return body.bytes;
  if (!Array.isArray(body) || body.length === 0) return undefined;
  const parts: Buffer[] = [OPEN];
  let size = 2 + body.length - 1;
  for (const item of body) {
    if (!(item instanceof RawJson)) return undefined;
    if (parts.length > 1) parts.push(COMMA);
    parts.push(item.bytes);
    size += item.bytes.length;
  }
  parts.push(CLOSE);
  return Buffer.concat(parts, size);
}
