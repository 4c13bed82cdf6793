/**
 * The HTTP listener: node:http directly (the benchmark says a framework would cost), routing by
 * find-my-way (Fastify's radix router), one AbortController and deadline per request, problem+json
 * errors, and graceful shutdown. Only this layer imports node:http.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import type { Duplex } from 'node:stream';
import type { Span } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { parseDuration, parseSize } from '../config/units.ts';
import type { Consumer, InboundContext, Reply } from '../contracts/policy.ts';
import type { EndpointPlan, GatewayPlan } from '../engine/plan.ts';
import { ChorusError, toProblem } from '../errors/catalogue.ts';
import { collectProcessMetrics, metricsRegistry, requestMetrics } from '../observability/metrics.ts';
import { createTracing, type Tracing } from '../observability/tracing.ts';
import { type PreflightHandler, preflightOf } from '../policies/inbound.ts';
import { upstreamStatus } from '../policies/upstream.ts';
import { type AdminGuard, createAdminGuard } from '../portal/admin.ts';
import { generateOpenApi } from '../portal/openapi.ts';
import { buildPortal, type Portal } from '../portal/portal.ts';
import { hasBody, readJsonBody } from './body.ts';

/** A running gateway. */
export interface Gateway {
  readonly server: Server;
  /** The base URL it listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Swaps in a new plan; in-flight requests finish on the old one, whose pools close after them. */
  reload(plan: GatewayPlan): void;
  /** Stops accepting, lets in-flight requests finish within the grace period, closes pools. */
  close(): Promise<void>;
}

/** Options of startGateway. */
export interface StartOptions {
  logger: Logger;
  port?: number;
  host?: string;
  /** Extra span processors (tests pass an in-memory exporter); tracing is on when any is given. */
  spanProcessors?: readonly SpanProcessor[];
}

type Route =
  | { kind: 'endpoint'; endpoint: EndpointPlan }
  | { kind: 'health' }
  | { kind: 'ready' }
  | { kind: 'openapi'; document: string }
  | { kind: 'metrics' }
  | { kind: 'portal'; portal: Portal; base: string }
  | { kind: 'traces' }
  | { kind: 'upstreams'; plan: GatewayPlan }
  | { kind: 'trace' };

interface RouterStore {
  route: Route;
}

interface Routing {
  plan: GatewayPlan;
  router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  inFlight: number;
}

/** What every request of a gateway shares, whatever the plan: logger, tracing, admin guard. */
interface Site {
  logger: Logger;
  /** Undefined when no trace is kept nor exported: then no request creates a span. */
  tracing: Tracing | undefined;
  /** Undefined when admin.credential is not set: then the admin routes do not exist. */
  adminGuard: AdminGuard | undefined;
}

const REQUEST_ID = /^[\w.:@-]{1,128}$/;
const ROUTER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

// Generated request ids: a random prefix per process and a counter, unique without a UUID's
// per-request cost (measured ~0.7 µs of a ~60 µs passthrough).
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;

function nextRequestId(): string {
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

function buildRouter(plan: GatewayPlan, site: Site): Routing['router'] {
  const router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 500, caseSensitive: true });
  const noop = (): void => {};
  for (const endpoint of plan.endpoints) {
    // Chorus writes {id}; find-my-way writes :id.
    const path = endpoint.path.replace(/\{([^}]+)\}/g, ':$1');
    router.on(endpoint.method as FindMyWay.HTTPMethod, path, noop, {
      route: { kind: 'endpoint', endpoint },
    } satisfies RouterStore);
  }
  if (!router.hasRoute('GET', '/healthz')) router.on('GET', '/healthz', noop, { route: { kind: 'health' } });
  if (!router.hasRoute('GET', '/readyz')) router.on('GET', '/readyz', noop, { route: { kind: 'ready' } });
  // Generated once per plan: the document only changes when the config does.
  const openApi = generateOpenApi(plan.config);
  if (!router.hasRoute('GET', '/openapi.json')) {
    const document = JSON.stringify(openApi);
    router.on('GET', '/openapi.json', noop, { route: { kind: 'openapi', document } });
  }
  const { metrics } = plan.config.observability;
  if (metrics.enabled && !router.hasRoute('GET', metrics.path)) {
    router.on('GET', metrics.path, noop, { route: { kind: 'metrics' } });
  }
  const adminPath = plan.config.admin.path;
  if (site.adminGuard !== undefined) {
    if (!router.hasRoute('GET', `${adminPath}/traces`)) {
      router.on('GET', `${adminPath}/traces`, noop, { route: { kind: 'traces' } });
    }
    if (!router.hasRoute('GET', `${adminPath}/traces/:id`)) {
      router.on('GET', `${adminPath}/traces/:id`, noop, { route: { kind: 'trace' } });
    }
    if (!router.hasRoute('GET', `${adminPath}/upstreams`)) {
      router.on('GET', `${adminPath}/upstreams`, noop, { route: { kind: 'upstreams', plan } });
    }
  }
  const portalConfig = plan.config.portal;
  if (portalConfig.enabled && !router.hasRoute('GET', portalConfig.path)) {
    const portal = buildPortal(plan, {
      basePath: portalConfig.path,
      adminPath: site.adminGuard === undefined ? undefined : adminPath,
      openApi,
    });
    const store = { route: { kind: 'portal', portal, base: portalConfig.path } } satisfies RouterStore;
    router.on('GET', portalConfig.path, noop, store);
    router.on('GET', `${portalConfig.path}/*`, noop, store);
  }
  return router;
}

/** Starts serving a compiled plan. */
export async function startGateway(initialPlan: GatewayPlan, options: StartOptions): Promise<Gateway> {
  const logger = options.logger;
  // Tracing and the admin credential are read at start; a reload keeps them (and the kept traces).
  const site: Site = {
    logger,
    tracing: createTracing(
      initialPlan.config,
      options.spanProcessors ? { spanProcessors: options.spanProcessors } : {},
    ),
    adminGuard:
      initialPlan.config.admin.credential === undefined
        ? undefined
        : createAdminGuard(initialPlan.config.admin.credential),
  };
  collectProcessMetrics();
  let current: Routing = { plan: initialPlan, router: buildRouter(initialPlan, site), inFlight: 0 };
  let draining = false;
  const idleWaiters = new Set<() => void>();
  const settled = (routing: Routing): void => {
    routing.inFlight--;
    if (routing.inFlight === 0) for (const wake of idleWaiters) wake();
  };

  const maxHeaderSize = parseSize(initialPlan.config.server.maxHeaderSize) ?? 16 * 1024;
  const server = createServer({ maxHeaderSize }, (req, res) => {
    const routing = current;
    routing.inFlight++;
    handleRequest(req, res, routing, draining, site).finally(() => settled(routing));
  });
  const serverConfig = initialPlan.config.server;
  server.keepAliveTimeout = parseDuration(serverConfig.keepAliveTimeout) ?? 5000;
  server.headersTimeout = parseDuration(serverConfig.headersTimeout) ?? 10_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) =>
    answerClientError(error, socket, maxHeaderSize),
  );
  // Node's whole-request timeout must outlast the longest endpoint deadline.
  server.requestTimeout =
    Math.max(...initialPlan.endpoints.map((e) => e.timeoutMs), initialPlan.requestTimeoutMs) + 5000;

  const port = options.port ?? serverConfig.port;
  const host = options.host ?? serverConfig.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`;

  const waitIdle = (routing: Routing, graceMs: number): Promise<boolean> => {
    if (routing.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        idleWaiters.delete(check);
        resolve(false);
      }, graceMs);
      const check = (): void => {
        if (routing.inFlight > 0) return;
        clearTimeout(timer);
        idleWaiters.delete(check);
        resolve(true);
      };
      idleWaiters.add(check);
    });
  };

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    reload(plan) {
      const previous = current;
      current = { plan, router: buildRouter(plan, site), inFlight: 0 };
      void waitIdle(previous, previous.plan.shutdownGraceMs).then(() => previous.plan.close());
    },
    close() {
      closing ??= (async () => {
        draining = true;
        const routing = current;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const finished = await waitIdle(routing, routing.plan.shutdownGraceMs);
        if (!finished)
          logger.warn({ inFlight: routing.inFlight }, 'shutdown grace period over; closing connections');
        server.closeAllConnections();
        await closed;
        await Promise.all([routing.plan.close(), site.tracing?.close()]);
      })();
      return closing;
    },
  };
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  routing: Routing,
  draining: boolean,
  site: Site,
): Promise<void> {
  const logger = site.logger;
  const started = performance.now();
  requestMetrics.started();
  const incomingId = req.headers['x-request-id'];
  const requestId =
    typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : nextRequestId();
  const rawUrl = req.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  const method = req.method ?? 'GET';
  let status = 500;
  let code: string | undefined;
  // The metrics label: the endpoint's operation id, a built-in route's name, or "unmatched".
  let endpointLabel = 'unmatched';
  let span: Span | undefined;
  const facts: RequestFacts = {
    requestId,
    path,
    params: {},
    query: {},
    logger,
    span: undefined,
    tracer: undefined,
    consumer: undefined,
  };
  try {
    const match = routing.router.find(method as FindMyWay.HTTPMethod, path);
    // A CORS preflight on a path without an OPTIONS endpoint: the requested method's endpoint answers.
    const preflight = match ? undefined : findPreflight(routing.router, method, path, req.headers);
    if (preflight) {
      discardBody(req);
      endpointLabel = preflight.endpoint.id;
      const reply = preflight.answer(req.headers);
      status = reply.status;
      sendJson(res, reply.status, undefined, requestId, reply.headers);
      return;
    }
    if (!match) {
      const allowed = ROUTER_METHODS.filter((m) => routing.router.find(m, path) !== null);
      if (allowed.length > 0) {
        throw new ChorusError('CHORUS_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, {
          extras: { allow: allowed },
        });
      }
      throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no endpoint for ${method} ${path}`);
    }
    const { route } = match.store as RouterStore;
    endpointLabel = route.kind === 'endpoint' ? route.endpoint.id : route.kind;
    if (
      route.kind === 'metrics' ||
      route.kind === 'portal' ||
      route.kind === 'traces' ||
      route.kind === 'trace' ||
      route.kind === 'upstreams'
    ) {
      discardBody(req);
      status = await serveBuiltIn(
        req,
        res,
        route,
        match.params as Record<string, string>,
        path,
        requestId,
        site,
      );
      return;
    }
    if (route.kind === 'openapi') {
      discardBody(req);
      status = 200;
      res.writeHead(200, {
        'content-type': JSON_TYPE,
        'content-length': Buffer.byteLength(route.document),
        'x-request-id': requestId,
      });
      res.end(route.document);
      return;
    }
    if (route.kind !== 'endpoint') {
      discardBody(req);
      const notReady = route.kind === 'ready' ? unreadyServices(routing.plan) : [];
      status = route.kind === 'ready' && (draining || notReady.length > 0) ? 503 : 200;
      const body =
        route.kind === 'health'
          ? { status: 'ok' }
          : draining
            ? { status: 'draining' }
            : notReady.length > 0
              ? { status: 'waiting', services: notReady }
              : { status: 'ready' };
      sendJson(res, status, body, requestId, undefined);
      return;
    }
    if (draining) throw new ChorusError('CHORUS_SHUTTING_DOWN', 'the gateway is shutting down');
    facts.params = match.params as Record<string, string>;
    facts.query = queryStart === -1 ? {} : parseQuery(rawUrl.slice(queryStart + 1));
    const tracing = site.tracing;
    if (tracing !== undefined) {
      span = tracing.startRequestSpan({
        requestId,
        method,
        route: route.endpoint.path,
        path,
        endpoint: route.endpoint.id,
        traceparent: req.headers.traceparent,
        tracestate: req.headers.tracestate,
      });
      facts.span = span;
      facts.tracer = tracing.tracer;
    }
    status = await runEndpoint(req, res, route.endpoint, routing.plan, facts);
  } catch (error) {
    if (error instanceof ClientClosedError) {
      status = 499;
    } else {
      const problem = toProblem(error, requestId);
      status = problem.status;
      code = problem.code;
      if (!(error instanceof ChorusError)) logger.error({ requestId, err: error }, 'unexpected error');
      else if (error.status >= 500) {
        // Only the error's public facts: backend bodies and headers (error.data) may hold secrets.
        logger.warn({ requestId, code: error.code, ...error.extras }, error.message);
      }
      if (!res.headersSent && !res.destroyed) {
        const extra = error instanceof ChorusError ? error.headers : undefined;
        sendProblem(res, problem, requestId, draining, extra);
      }
    }
  } finally {
    const elapsed = performance.now() - started;
    requestMetrics.finished(endpointLabel, status, elapsed / 1000);
    if (span !== undefined) site.tracing!.endRequestSpan(span, status, code);
    // The access line; its object is not even built when info is off.
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          requestId,
          method,
          path,
          endpoint: endpointLabel,
          consumer: facts.consumer?.id,
          status,
          ms: Math.round(elapsed * 100) / 100,
          code,
        },
        'request',
      );
    }
  }
}

interface RequestFacts {
  requestId: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  logger: Logger;
  span: Span | undefined;
  tracer: Tracing['tracer'] | undefined;
  /** Set once the endpoint has run: who called, for the access line. */
  consumer: Consumer | undefined;
}

/** Adapts the request to an InboundContext, runs the endpoint's handler under a deadline, writes the reply. */
async function runEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: EndpointPlan,
  plan: GatewayPlan,
  facts: RequestFacts,
): Promise<number> {
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
    readBody: () => {
      body ??= readJsonBody(req, plan.bodyLimit, plan.jsonDepthLimit, controller.signal);
      return body;
    },
  };
  // Only with tracing on: the context keeps its plain shape (and no spread) otherwise.
  if (facts.span !== undefined) Object.assign(ctx, { span: facts.span, tracer: facts.tracer });
  try {
    const reply = await endpoint.handle(ctx);
    if (body === undefined) discardBody(req);
    sendReply(res, reply, facts.requestId);
    return reply.status;
  } finally {
    // Who called, for the access line (set by an auth policy, even when the request then failed).
    facts.consumer = ctx.consumer;
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

/** Answers the built-in routes that are not endpoints: /metrics, the portal, the admin traces. */
async function serveBuiltIn(
  req: IncomingMessage,
  res: ServerResponse,
  route: Extract<Route, { kind: 'metrics' | 'portal' | 'traces' | 'trace' | 'upstreams' }>,
  params: Record<string, string>,
  path: string,
  requestId: string,
  site: Site,
): Promise<number> {
  if (route.kind === 'metrics') {
    const text = await metricsRegistry.metrics();
    res.writeHead(200, {
      'content-type': metricsRegistry.contentType,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-request-id': requestId,
    });
    res.end(text);
    return 200;
  }
  if (route.kind === 'portal') {
    const file = await route.portal.file(path.slice(route.base.length));
    if (file === undefined) throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no portal page ${path}`);
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': Buffer.byteLength(file.body),
      'cache-control': file.cache,
      // Everything the portal loads comes from the gateway itself: no CDN, works offline.
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'x-request-id': requestId,
    });
    res.end(file.body);
    return 200;
  }
  if (!site.adminGuard?.(req.headers.authorization)) {
    throw new ChorusError('CHORUS_UNAUTHORIZED', 'the admin routes need the admin bearer credential', {
      headers: { 'www-authenticate': 'Bearer realm="chorus-admin"' },
    });
  }
  const ring = site.tracing?.ring;
  let body: unknown;
  if (route.kind === 'traces') body = { capacity: ring?.capacity ?? 0, traces: ring?.list() ?? [] };
  else if (route.kind === 'upstreams') {
    // Breaker state and counts, bulkhead use and hosts of every service, read now.
    body = { services: [...route.plan.connectors.values()].map(upstreamStatus) };
  } else {
    body = ring?.get(params.id ?? '');
    if (body === undefined) throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no kept trace "${params.id}"`);
  }
  sendJson(res, 200, body, requestId, { 'cache-control': 'no-store' });
  return 200;
}

function abortOnDeadline(controller: AbortController, timeoutMs: number): void {
  controller.abort(
    new ChorusError('CHORUS_DEADLINE_EXCEEDED', `the request took longer than its ${timeoutMs} ms deadline`, {
      extras: { timeoutMs },
    }),
  );
}

function sendReply(res: ServerResponse, reply: Reply, requestId: string): void {
  if (reply.payload !== undefined) {
    res.writeHead(reply.status, {
      'content-type': JSON_TYPE,
      ...reply.headers,
      'content-length': Buffer.byteLength(reply.payload),
      'x-request-id': requestId,
    });
    res.end(reply.payload);
    return;
  }
  sendJson(res, reply.status, reply.body, requestId, reply.headers);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> | undefined,
): void {
  const bodiless = body === undefined || status === 204 || status === 304;
  const payload = bodiless ? '' : JSON.stringify(body);
  const out: Record<string, string | number> = { 'x-request-id': requestId, ...headers };
  if (!bodiless) out['content-type'] ??= JSON_TYPE;
  // Always a length, so an empty answer is not sent chunked.
  if (status !== 204 && status !== 304) out['content-length'] = Buffer.byteLength(payload);
  res.writeHead(status, out);
  res.end(payload);
}

function sendProblem(
  res: ServerResponse,
  problem: ReturnType<typeof toProblem>,
  requestId: string,
  draining: boolean,
  extra?: Record<string, string>,
): void {
  const payload = JSON.stringify(problem);
  const headers: Record<string, string | number> = {
    ...extra,
    'content-type': PROBLEM_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
  };
  if (Array.isArray(problem.allow)) headers.allow = problem.allow.join(', ');
  // A body we did not read (too large, wrong type) leaves the connection unusable: close it.
  if (draining || problem.status === 413 || problem.status === 415) headers.connection = 'close';
  res.writeHead(problem.status, headers);
  res.end(payload);
}

/** Services whose connector says it cannot take calls yet (e.g. a broker still connecting). */
function unreadyServices(plan: GatewayPlan): string[] {
  const waiting: string[] = [];
  for (const [name, connector] of plan.connectors) {
    if (!plan.calledServices.has(name)) continue;
    if (connector.ready && !connector.ready()) waiting.push(name);
  }
  return waiting;
}

/**
 * Answers a request node:http could not parse: 431 problem+json for a head over server.maxHeaderSize
 * (no handler ran: there is no request id but a fresh one), Node's plain 400/408 otherwise.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, maxHeaderSize: number): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const requestId = nextRequestId();
    const problem = toProblem(
      new ChorusError(
        'CHORUS_HEADERS_TOO_LARGE',
        `the request head is over the ${maxHeaderSize}-byte limit`,
        {
          extras: { limit: maxHeaderSize },
        },
      ),
      requestId,
    );
    const payload = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: ${PROBLEM_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(payload)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${payload}`,
    );
    return;
  }
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  socket.end(`HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nconnection: close\r\n\r\n`);
}

/** The CORS preflight answer of the endpoint an OPTIONS request asks about, if it has a CORS policy. */
function findPreflight(
  router: Routing['router'],
  method: string,
  path: string,
  headers: IncomingMessage['headers'],
): { endpoint: EndpointPlan; answer: PreflightHandler } | undefined {
  const requested = headers['access-control-request-method'];
  if (method !== 'OPTIONS' || typeof requested !== 'string' || headers.origin === undefined) return undefined;
  if (!(ROUTER_METHODS as readonly string[]).includes(requested)) return undefined;
  const { route } = (router.find(requested as FindMyWay.HTTPMethod, path)?.store ??
    {}) as Partial<RouterStore>;
  if (route?.kind !== 'endpoint') return undefined;
  const answer = preflightOf(route.endpoint.handle);
  return answer ? { endpoint: route.endpoint, answer } : undefined;
}

function discardBody(req: IncomingMessage): void {
  if (hasBody(req)) req.resume();
}
