/**
 * One request, from accept to access log, named by its stages (docs/architecture.md):
 * 1 accept (node:http) · 2 request id · 3 route · 4 deadline & AbortController · 5–10 the
 * endpoint's inbound stack and handler (inbound policies, body read, input validation, flow run,
 * response, partial marker) · 11 send · 12 access log. An error at any stage becomes a problem
 * document.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Span } from '@opentelemetry/api';
import type FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import type { Consumer, InboundContext } from '../contracts/policy.ts';
import type { EndpointPlan } from '../engine/plan.ts';
import { ChorusError, toProblem } from '../errors/catalogue.ts';
import { requestMetrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';
import { STALE_HEADER, staleServices } from '../state/stale-marks.ts';
import { type BodyReading, declaredTooLarge, readJsonBody, tooLarge } from './body.ts';
import { serveBuiltIn } from './built-in.ts';
import type { ResponseEncoding } from './encoding.ts';
import { discardBody, sendJson, sendProblem, sendReply } from './reply.ts';
import {
  findPreflight,
  type ListenerView,
  ROUTER_METHODS,
  type Router,
  type RouterStore,
  type Routing,
  type Site,
} from './routes.ts';

const REQUEST_ID = /^[\w.:@-]{1,128}$/;

// Generated request ids: a random prefix per process and a counter, unique without a UUID's
// per-request cost (measured ~0.7 µs of a ~60 µs passthrough).
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;

/** A fresh request id. */
export function nextRequestId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${ID_PREFIX}-${idCounter.toString(36)}`;
}

/** A client that went away: not an error anyone is answered with; logged as 499. */
class ClientClosedError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientClosedError';
  }
}

/** What is known about a request as it goes through its stages; the access line reads it. */
export interface RequestFacts {
  readonly started: number;
  readonly requestId: string;
  readonly method: string;
  readonly url: string;
  /** Where the query starts in url (-1: none). */
  readonly queryStart: number;
  readonly path: string;
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  /** The site's logger; for a traced request, its child with trace_id and span_id on every line. */
  logger: Logger;
  span: Span | undefined;
  tracer: Tracing['tracer'] | undefined;
  /** Set once the endpoint has run: who called, for the access line. */
  consumer: Consumer | undefined;
  status: number;
  /** The error code of a failed request. */
  code: string | undefined;
  /** The metrics label: the endpoint's operation id, a built-in route's name, or "unmatched". */
  label: string;
}

/** Answers one request on the routing it arrived under. */
export async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  routing: Routing,
  listener: ListenerView,
  site: Site,
): Promise<void> {
  // 1 accept: node:http has read the head. 2 request id.
  const facts = accept(req, site.logger);
  if (listener.draining) res.setHeader('connection', 'close');
  try {
    // 3 route (HEAD on a GET route answers as GET; node:http sends no body for HEAD)
    const router = routing.router;
    const match =
      router.find(facts.method as FindMyWay.HTTPMethod, facts.path) ??
      (facts.method === 'HEAD' ? router.find('GET', facts.path) : null);
    if (match === null) {
      answerUnrouted(req, res, router, facts, routing.plan.bodyLimit);
      return;
    }
    // A declared body over the limit is refused before any work, whatever the route reads.
    if (declaredTooLarge(req, routing.plan.bodyLimit)) throw tooLarge(routing.plan.bodyLimit);
    const { route } = match.store as RouterStore;
    if (route.kind !== 'endpoint') {
      facts.label = route.kind;
      discardBody(req);
      facts.status = await serveBuiltIn(
        req,
        res,
        route,
        match.params,
        facts,
        routing.plan,
        listener,
        site,
        routing.encoding,
      );
      return;
    }
    facts.label = route.endpoint.id;
    if (listener.stopped) throw new ChorusError('CHORUS_SHUTTING_DOWN', 'the gateway is shutting down');
    facts.params = match.params as Record<string, string>;
    facts.query = facts.queryStart === -1 ? {} : parseQuery(facts.url.slice(facts.queryStart + 1));
    if (site.tracing !== undefined) startRequestSpan(req, route.endpoint, facts, site.tracing);
    facts.status = await runEndpoint(req, res, route.endpoint, route.body, routing, facts, listener);
  } catch (error) {
    answerError(res, error, facts, listener.draining, routing.encoding);
  } finally {
    accessLog(facts, site);
  }
}

/** Stages 1 and 2: the request's facts, its id from x-request-id when valid, else a fresh one. */
function accept(req: IncomingMessage, logger: Logger): RequestFacts {
  const started = performance.now();
  requestMetrics.started();
  const incomingId = req.headers['x-request-id'];
  const requestId =
    typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : nextRequestId();
  const rawUrl = req.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  return {
    started,
    requestId,
    method: req.method ?? 'GET',
    url: rawUrl,
    queryStart,
    path: queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart),
    params: {},
    query: {},
    logger,
    span: undefined,
    tracer: undefined,
    consumer: undefined,
    status: 500,
    code: undefined,
    label: 'unmatched',
  };
}

/** No route: a CORS preflight the requested method's endpoint answers, else 405 with Allow, else 404. */
function answerUnrouted(
  req: IncomingMessage,
  res: ServerResponse,
  router: Router,
  facts: RequestFacts,
  bodyLimit: number,
): void {
  const { method, path } = facts;
  if (declaredTooLarge(req, bodyLimit)) throw tooLarge(bodyLimit);
  const preflight = findPreflight(router, method, path, req.headers);
  if (preflight) {
    discardBody(req);
    facts.label = preflight.endpoint.id;
    const reply = preflight.answer(req.headers);
    facts.status = reply.status;
    sendJson(res, reply.status, undefined, facts.requestId, reply.headers);
    return;
  }
  const allowed = allowedMethods(router, path);
  // OPTIONS on a path that exists (RFC 9110 §9.3.7): the methods it allows, no body.
  if (method === 'OPTIONS' && allowed.length > 0) {
    discardBody(req);
    facts.label = 'options';
    facts.status = 204;
    sendJson(res, 204, undefined, facts.requestId, { allow: allowed.join(', ') });
    return;
  }
  if (allowed.length > 0) {
    throw new ChorusError('CHORUS_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, {
      extras: { allow: allowed },
    });
  }
  throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no endpoint for ${method} ${path}`);
}

/** The methods a path answers, in the router's order: HEAD with GET, and OPTIONS, always. */
function allowedMethods(router: Router, path: string): string[] {
  const allowed: string[] = [];
  for (const method of ROUTER_METHODS) {
    if (method === 'HEAD' || method === 'OPTIONS' || router.find(method, path) === null) continue;
    allowed.push(method);
    if (method === 'GET') allowed.push('HEAD');
  }
  if (allowed.length > 0) allowed.push('OPTIONS');
  return allowed;
}

function startRequestSpan(
  req: IncomingMessage,
  endpoint: EndpointPlan,
  facts: RequestFacts,
  tracing: Tracing,
): void {
  facts.span = tracing.startRequestSpan({
    requestId: facts.requestId,
    method: facts.method,
    route: endpoint.path,
    path: facts.path,
    endpoint: endpoint.id,
    traceparent: req.headers.traceparent,
    tracestate: req.headers.tracestate,
  });
  facts.tracer = tracing.tracer;
  const { traceId, spanId } = facts.span.spanContext();
  facts.logger = facts.logger.child({ trace_id: traceId, span_id: spanId });
}

/**
 * Stage 4, then 5–11: one AbortController aborted at the endpoint's deadline or when the client
 * goes away; the request as an InboundContext through the endpoint's inbound stack; the reply sent.
 */
async function runEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: EndpointPlan,
  bodyReading: BodyReading,
  routing: Routing,
  facts: RequestFacts,
  listener: ListenerView,
): Promise<number> {
  const plan = routing.plan;
  // 4 deadline & AbortController
  const controller = new AbortController();
  const timer = setTimeout(abortOnDeadline, endpoint.timeoutMs, controller, endpoint.timeoutMs);
  const onClose = (): void => {
    if (!res.writableFinished && !controller.signal.aborted) controller.abort(new ClientClosedError());
  };
  res.on('close', onClose);
  let body: Promise<unknown> | undefined;
  const ctx: InboundContext = {
    requestId: facts.requestId,
    method: endpoint.method,
    path: facts.path,
    params: facts.params,
    query: facts.query,
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    clientIp: plan.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    controller,
    deadline: Date.now() + endpoint.timeoutMs,
    logger: facts.logger,
    consumer: undefined,
    // 6 body read (by the handler, only when the endpoint reads the body)
    readBody: () => {
      body ??= readJsonBody(req, bodyReading, controller.signal);
      return body;
    },
  };
  // Only with tracing on: the context keeps its plain shape (and no spread) otherwise.
  if (facts.span !== undefined) Object.assign(ctx, { span: facts.span, tracer: facts.tracer });
  try {
    // 5–10 inbound policies, then the endpoint's handler (src/engine/endpoint.ts)
    const reply = await endpoint.handle(ctx);
    if (body === undefined) discardBody(req);
    // 11 send (an answer finished after SIGTERM closes its connection: the client will not reuse it)
    if (listener.draining) res.setHeader('connection', 'close');
    const stale = staleServices(controller.signal);
    if (stale !== undefined) res.setHeader(STALE_HEADER, stale.join(','));
    sendReply(
      res,
      reply,
      facts.requestId,
      routing.encoding,
      facts.method === 'GET' || facts.method === 'HEAD',
    );
    return reply.status;
  } finally {
    // Who called, for the access line (set by an auth policy, even when the request then failed).
    facts.consumer = ctx.consumer;
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

function abortOnDeadline(controller: AbortController, timeoutMs: number): void {
  controller.abort(
    new ChorusError('CHORUS_DEADLINE_EXCEEDED', `the request took longer than its ${timeoutMs} ms deadline`, {
      extras: { timeoutMs },
    }),
  );
}

/** An error at any stage: a problem document (none to a client that went away: 499). */
function answerError(
  res: ServerResponse,
  error: unknown,
  facts: RequestFacts,
  draining: boolean,
  encoding: ResponseEncoding,
): void {
  if (error instanceof ClientClosedError) {
    facts.status = 499;
    return;
  }
  const { requestId, logger } = facts;
  const problem = toProblem(error, requestId);
  facts.status = problem.status;
  facts.code = problem.code;
  if (!(error instanceof ChorusError)) logger.error({ requestId, err: error }, 'unexpected error');
  else if (error.status >= 500) {
    // Only the error's public facts: backend bodies and headers (error.data) may hold secrets.
    logger.warn({ requestId, code: error.code, ...error.extras }, error.message);
  }
  if (!res.headersSent && !res.destroyed) {
    const extra = error instanceof ChorusError ? error.headers : undefined;
    sendProblem(res, problem, requestId, draining, extra, encoding);
  }
}

/** Stage 12: request metrics, the end of the request's span, and one access line. */
function accessLog(facts: RequestFacts, site: Site): void {
  const elapsed = performance.now() - facts.started;
  requestMetrics.finished(facts.label, facts.status, elapsed / 1000);
  if (facts.span !== undefined) site.tracing!.endRequestSpan(facts.span, facts.status, facts.code);
  const logger = facts.logger;
  // The access line; its object is not even built when info is off.
  if (logger.isLevelEnabled('info')) {
    logger.info(
      {
        requestId: facts.requestId,
        method: facts.method,
        path: facts.path,
        endpoint: facts.label,
        consumer: facts.consumer?.id,
        status: facts.status,
        ms: Math.round(elapsed * 100) / 100,
        code: facts.code,
      },
      'request',
    );
  }
}
